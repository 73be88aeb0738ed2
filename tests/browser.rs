//! The HTML pages in a real browser (issue 16 item 7): headless Chromium opens each page from
//! a `file://` URL and the test reads the DOM after load, the network log and a screenshot.
//!
//! First the harness proves it can see what it must catch: a page that puts hostile names in
//! as markup runs their script (the title changes) and fetches their image (the tripwire
//! listener on 127.0.0.1 is hit and the net log shows it), while the same names escaped stay
//! text nodes, the title stays, and the page asks the network for nothing. (A `file://`
//! page's own load does not pass the network stack, so the net log shows every request
//! *of* the page, under its origin, apart from the browser's own, which have none.)

mod support;

use support::browser::{open, Tripwire};

/// The hostile names of the issue, with the tripwire's port.
fn hostile(port: u16) -> [String; 3] {
    [
        "<script>document.title='pwned'</script>".to_string(),
        format!("<img src=http://127.0.0.1:{port}/x>"),
        "</svg>".to_string(),
    ]
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <title>driftgate test page</title></head><body><h1>names</h1>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"200\">{body}</svg>\
         <ul>{}</ul></body></html>",
        body.replace("<text", "<li").replace("</text>", "</li>")
    )
}

#[test]
fn the_harness_catches_markup_and_passes_text() {
    let dir = tempfile::tempdir().unwrap();

    // Escaped: text nodes, nothing ran, nothing fetched.
    let wire = Tripwire::new();
    let names = hostile(wire.port);
    let body: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("<text x=\"10\" y=\"{}\">{}</text>", 30 + 40 * i, escape(n)))
        .collect();
    let safe = dir.path().join("safe.html");
    std::fs::write(&safe, page(&body)).unwrap();
    let p = open(&safe, "harness-safe", 800, 400);
    assert_eq!(p.title(), "driftgate test page", "{}", p.dom);
    for n in &names {
        assert!(
            p.dom.contains(
                &n.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            ),
            "{n} is not a text node in the DOM:\n{}",
            p.dom
        );
    }
    assert!(!p.dom.contains("<img"), "{}", p.dom);
    assert_eq!(p.page_requests(), Vec::<&str>::new(), "{:?}", p.requests);
    assert_eq!(wire.hits(), 0, "the hostile <img> was fetched");

    // As markup: the browser runs the script and fetches the image, and the harness sees both.
    let wire = Tripwire::new();
    let names = hostile(wire.port);
    let body: String = names
        .iter()
        .map(|n| format!("<text x=\"10\" y=\"30\">{n}</text>"))
        .collect();
    let unsafe_page = dir.path().join("unsafe.html");
    std::fs::write(&unsafe_page, page(&body)).unwrap();
    let p = open(&unsafe_page, "harness-unsafe", 800, 400);
    assert_eq!(
        p.title(),
        "pwned",
        "the control page's script did not run:\n{}",
        p.dom
    );
    let img = format!("http://127.0.0.1:{}/x", wire.port);
    assert!(
        p.page_requests().contains(&img.as_str()),
        "the net log does not show the image fetched: {:?}",
        p.requests
    );
    assert!(wire.hits() > 0, "the tripwire saw no connection");
}
