//! How a tour talks: numbered steps, what happened, what broke and what held.
//!
//! Every chapter's tour writes through a [`Narrator`], so that all tours read alike and a test can
//! capture what a tour said and check it.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Tells a tour's story: a title, numbered steps, and what broke or held at each.
pub struct Narrator {
    out: Box<dyn Write + Send>,
    step: usize,
}

impl Narrator {
    /// A narrator that writes to the terminal.
    pub fn to_stdout() -> Self {
        Self {
            out: Box::new(std::io::stdout()),
            step: 0,
        }
    }

    /// A narrator that writes into a buffer the caller can read: for tests of tours.
    pub fn captured() -> (Self, Captured) {
        let buffer = Captured::default();
        (
            Self {
                out: Box::new(buffer.clone()),
                step: 0,
            },
            buffer,
        )
    }

    /// The title of a tour and the one idea it shows.
    pub fn title(&mut self, title: &str, idea: &str) {
        self.step = 0;
        self.line(&format!("\n== {title} =="));
        self.line(&wrap(idea, "   "));
    }

    /// Starts the next numbered step.
    pub fn step(&mut self, what: &str) {
        self.step += 1;
        self.line(&format!("\n[{}] {what}", self.step));
    }

    /// A plain remark.
    pub fn say(&mut self, text: &str) {
        self.line(&wrap(text, "    "));
    }

    /// A fault the tour injected, or a failure it provoked on purpose.
    pub fn broke(&mut self, text: &str) {
        self.line(&format!("    !! {text}"));
    }

    /// What held: the outcome the pattern guarantees.
    pub fn held(&mut self, text: &str) {
        self.line(&format!("    ok {text}"));
    }

    fn line(&mut self, text: &str) {
        // A tour whose output cannot be written has nobody to talk to; there is nothing better to do.
        let _ = writeln!(self.out, "{text}");
    }
}

/// Wraps `text` at about 96 columns, each line starting with `indent`.
fn wrap(text: &str, indent: &str) -> String {
    let mut lines = vec![String::from(indent)];
    for word in text.split_whitespace() {
        let current = lines.last_mut().expect("never empty");
        if current.len() > indent.len() && current.len() + word.len() >= 96 {
            lines.push(format!("{indent}{word}"));
        } else {
            if current.len() > indent.len() {
                current.push(' ');
            }
            current.push_str(word);
        }
    }
    lines.join("\n")
}

/// What a [`Narrator::captured`] narrator wrote.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_and_long_remarks_wrapped() {
        let (mut narrator, captured) = Narrator::captured();
        narrator.title("Title", "idea");
        narrator.step("first");
        narrator.say(&"word ".repeat(40));
        narrator.step("second");
        narrator.broke("cut");
        narrator.held("restored");
        let text = captured.text();
        assert!(text.contains("== Title =="));
        assert!(text.contains("[1] first") && text.contains("[2] second"), "{text}");
        assert!(
            text.contains("    !! cut\n") && text.contains("    ok restored\n"),
            "{text}"
        );
        assert!(text.lines().all(|line| line.len() <= 100), "{text}");
        assert!(
            text.lines()
                .filter(|line| line.trim_start().starts_with("word"))
                .count()
                >= 2,
            "{text}"
        );
    }
}
