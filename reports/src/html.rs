//! What every report page shares: escaping text for HTML, and the head of
//! a self-contained page (its style inline, nothing loaded from elsewhere).

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's start, up to and including its `<h1>` title.
pub fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{0}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{0}</h1>\n",
        escape(title)
    )
}

/// A chart inline, with links to its SVG and PNG files, after the
/// sentence that says what to notice in it (`says`, from its data).
pub fn figure(name: &str, svg: &str, says: Option<&str>) -> String {
    let says = says.filter(|s| !s.is_empty()).map_or(String::new(), |s| {
        format!("<p class=\"says\">{}</p>\n", escape(s))
    });
    format!(
        "{says}<figure id=\"{name}\">\n{}\n<figcaption><a href=\"{name}.svg\">{name}.svg</a> · <a href=\"{name}.png\">{name}.png</a></figcaption>\n</figure>\n",
        svg.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>").trim()
    )
}

const STYLE: &str = "body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
tr.fail td { background: #fde0e0; }
tr.unknown td { background: #fff3d6; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
";

/// What a report opens with: the scenario's description, and its lesson
/// (what to take away, set apart) when it has one.
pub fn lesson(description: &str, lesson: Option<&str>) -> String {
    let mut out = String::new();
    if !description.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", escape(description)));
    }
    if let Some(lesson) = lesson.filter(|l| !l.trim().is_empty()) {
        out.push_str(&format!(
            "<p class=\"lesson\" style=\"border-left:4px solid #0072b2;padding:0.4em 0.8em;background:#eef5fb\"><strong>Lesson.</strong> {}</p>\n",
            escape(lesson.trim())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere_it_goes() {
        assert_eq!(
            escape(r#"<a href="x">&</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
        assert!(head("a<b").contains("<title>a&lt;b</title>"));
    }
}
