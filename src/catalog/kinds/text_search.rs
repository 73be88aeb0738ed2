//! Text search parsers, templates, dictionaries and configurations in the selected schemas:
//! four small queries on one session (they are few, and a configuration names its parser
//! and dictionaries).

use super::refs::{qualified, qualified_ref, routine, routine_ref, user_made};
use super::{comment_of, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    CatalogObject, ObjectDef, ObjectKey, ObjectKind, TsConfigurationDef, TsDictionaryDef,
    TsParserDef, TsTemplateDef,
};
use sqlx::postgres::types::Oid;
use std::collections::BTreeMap;

/// Few per schema: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct ParserRow {
    schema: String,
    name: String,
    start: Option<Vec<String>>,
    gettoken: Option<Vec<String>>,
    end_fn: Option<Vec<String>>,
    lextypes: Option<Vec<String>>,
    headline: Option<Vec<String>>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    schema: String,
    name: String,
    init: Option<Vec<String>>,
    lexize: Option<Vec<String>>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DictionaryRow {
    schema: String,
    name: String,
    template: Option<Vec<String>>,
    options: Option<String>,
    owner: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ConfigurationRow {
    schema: String,
    name: String,
    parser: Option<Vec<String>>,
    /// `alias \x1f seqno \x1f schema \x1f dictionary` per mapping entry.
    mappings: Vec<String>,
    owner: String,
    comment: Option<String>,
}

pub async fn read_text_search(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let mut out = Vec::new();

    let sql = format!(
        "SELECT n.nspname::text AS schema, p.prsname::text AS name, {start} AS start, \
           {gettoken} AS gettoken, {end} AS end_fn, {lextypes} AS lextypes, {headline} AS headline, \
           {comment} AS comment \
         FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace \
         WHERE n.oid = ANY($1) AND {user}",
        start = routine_ref("p.prsstart"),
        gettoken = routine_ref("p.prstoken"),
        end = routine_ref("p.prsend"),
        lextypes = routine_ref("p.prslextype"),
        headline = routine_ref("p.prsheadline"),
        comment = comment_of("pg_ts_parser", "p.oid"),
        user = user_made("pg_ts_parser", "p.oid"),
    );
    let rows: Vec<ParserRow> =
        fetch_by_oids(conn, "reading text search parsers", &sql, nsp).await?;
    out.extend(rows.into_iter().map(|r| CatalogObject {
        key: ObjectKey::qualified(ObjectKind::TextSearchParser, &r.schema, &r.name),
        owner: None,
        acl: None,
        comment: r.comment,
        def: ObjectDef::TextSearchParser(TsParserDef {
            start: routine(r.start).unwrap_or_default(),
            gettoken: routine(r.gettoken).unwrap_or_default(),
            end: routine(r.end_fn).unwrap_or_default(),
            lextypes: routine(r.lextypes).unwrap_or_default(),
            headline: routine(r.headline),
            schema: r.schema,
            name: r.name,
        }),
    }));

    let sql = format!(
        "SELECT n.nspname::text AS schema, t.tmplname::text AS name, {init} AS init, \
           {lexize} AS lexize, {comment} AS comment \
         FROM pg_ts_template t JOIN pg_namespace n ON n.oid = t.tmplnamespace \
         WHERE n.oid = ANY($1) AND {user}",
        init = routine_ref("t.tmplinit"),
        lexize = routine_ref("t.tmpllexize"),
        comment = comment_of("pg_ts_template", "t.oid"),
        user = user_made("pg_ts_template", "t.oid"),
    );
    let rows: Vec<TemplateRow> =
        fetch_by_oids(conn, "reading text search templates", &sql, nsp).await?;
    out.extend(rows.into_iter().map(|r| CatalogObject {
        key: ObjectKey::qualified(ObjectKind::TextSearchTemplate, &r.schema, &r.name),
        owner: None,
        acl: None,
        comment: r.comment,
        def: ObjectDef::TextSearchTemplate(TsTemplateDef {
            init: routine(r.init),
            lexize: routine(r.lexize).unwrap_or_default(),
            schema: r.schema,
            name: r.name,
        }),
    }));

    let sql = format!(
        "SELECT n.nspname::text AS schema, d.dictname::text AS name, {template} AS template, \
           d.dictinitoption AS options, pg_get_userbyid(d.dictowner)::text AS owner, \
           {comment} AS comment \
         FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace \
         WHERE n.oid = ANY($1) AND {user}",
        template = qualified_ref(
            "pg_ts_template",
            "tmplnamespace",
            "tmplname",
            "d.dicttemplate"
        ),
        comment = comment_of("pg_ts_dict", "d.oid"),
        user = user_made("pg_ts_dict", "d.oid"),
    );
    let rows: Vec<DictionaryRow> =
        fetch_by_oids(conn, "reading text search dictionaries", &sql, nsp).await?;
    out.extend(rows.into_iter().map(|r| CatalogObject {
        key: ObjectKey::qualified(ObjectKind::TextSearchDictionary, &r.schema, &r.name),
        owner: Some(r.owner),
        acl: None,
        comment: r.comment,
        def: ObjectDef::TextSearchDictionary(TsDictionaryDef {
            template: qualified(r.template).unwrap_or_default(),
            options: r.options,
            schema: r.schema,
            name: r.name,
        }),
    }));

    let sql = format!(
        "SELECT n.nspname::text AS schema, c.cfgname::text AS name, {parser} AS parser, \
           ARRAY(SELECT format('%s\x1f%s\x1f%s\x1f%s', tt.alias, m.mapseqno, dn.nspname, d.dictname) \
                 FROM pg_ts_config_map m \
                 JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype \
                 JOIN pg_ts_dict d ON d.oid = m.mapdict \
                 JOIN pg_namespace dn ON dn.oid = d.dictnamespace \
                 WHERE m.mapcfg = c.oid) AS mappings, \
           pg_get_userbyid(c.cfgowner)::text AS owner, {comment} AS comment \
         FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace \
         WHERE n.oid = ANY($1) AND {user}",
        parser = qualified_ref("pg_ts_parser", "prsnamespace", "prsname", "c.cfgparser"),
        comment = comment_of("pg_ts_config", "c.oid"),
        user = user_made("pg_ts_config", "c.oid"),
    );
    let rows: Vec<ConfigurationRow> =
        fetch_by_oids(conn, "reading text search configurations", &sql, nsp).await?;
    out.extend(rows.into_iter().map(|r| {
        // Sorted by sequence number in Rust, by number, not by the server's text order.
        let mut entries: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        for m in &r.mappings {
            let mut parts = m.split('\x1f');
            let (Some(alias), Some(seq), Some(schema), Some(dict)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            entries.entry(alias.to_string()).or_default().push((
                seq.parse().unwrap_or(0),
                crate::model::qualify(schema, dict),
            ));
        }
        let mappings = entries
            .into_iter()
            .map(|(alias, mut dicts)| {
                dicts.sort();
                (alias, dicts.into_iter().map(|(_, d)| d).collect())
            })
            .collect();
        CatalogObject {
            key: ObjectKey::qualified(ObjectKind::TextSearchConfiguration, &r.schema, &r.name),
            owner: Some(r.owner),
            acl: None,
            comment: r.comment,
            def: ObjectDef::TextSearchConfiguration(TsConfigurationDef {
                parser: qualified(r.parser).unwrap_or_default(),
                mappings,
                schema: r.schema,
                name: r.name,
            }),
        }
    }));
    Ok(out)
}
