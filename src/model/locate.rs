//! Finds where a field path (`regions[3].turnout.value`) sits in a JSON text, so validation
//! errors can point at line:column like parse errors do.
//!
//! A small scanner walks the text once, tracking the path of every value; it is only used on
//! text serde_json already parsed, so it does not validate.

/// 1-based (line, column) of the value at `path`, or of its closest existing ancestor.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let mut s = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        path: String::new(),
        want: path,
        best: None,
        duplicate: None,
    };
    s.value();
    s.best.map(|pos| line_col(text, pos))
}

/// The first key repeated within one object, as its path and the 1-based (line, column) of its
/// second occurrence.
pub fn duplicate_key(text: &str) -> Option<(String, (usize, usize))> {
    let mut s = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        path: String::new(),
        want: "",
        best: None,
        duplicate: None,
    };
    s.value();
    s.duplicate.map(|(path, pos)| (path, line_col(text, pos)))
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: String,
    want: &'a str,
    /// Start of the deepest value whose path is a prefix of `want`.
    best: Option<usize>,
    /// The first repeated key: its path and where it starts.
    duplicate: Option<(String, usize)>,
}

impl Scanner<'_> {
    fn peek(&self) -> u8 {
        self.bytes.get(self.pos).copied().unwrap_or(0)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\n' | b'\r' | b'\t') {
            self.pos += 1;
        }
    }

    fn value(&mut self) {
        self.skip_ws();
        let w = self.want;
        let is_prefix = w == self.path
            || (w.starts_with(self.path.as_str())
                && matches!(w.as_bytes().get(self.path.len()), Some(b'.') | Some(b'[')))
            || self.path.is_empty();
        if is_prefix {
            self.best = Some(self.pos);
        }
        match self.peek() {
            b'{' => {
                self.pos += 1;
                let mut keys = std::collections::HashSet::new();
                loop {
                    self.skip_ws();
                    if self.peek() != b'"' {
                        self.pos += 1; // '}' (or ',' already handled below)
                        break;
                    }
                    let at = self.pos;
                    let key = self.string();
                    if !keys.insert(key.clone()) && self.duplicate.is_none() {
                        let path = if self.path.is_empty() {
                            key.clone()
                        } else {
                            format!("{}.{key}", self.path)
                        };
                        self.duplicate = Some((path, at));
                    }
                    self.skip_ws();
                    self.pos += 1; // ':'
                    let len = self.path.len();
                    if !self.path.is_empty() {
                        self.path.push('.');
                    }
                    self.path.push_str(&key);
                    self.value();
                    self.path.truncate(len);
                    self.skip_ws();
                    if self.peek() == b',' {
                        self.pos += 1;
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut i = 0;
                loop {
                    self.skip_ws();
                    if self.peek() == b']' || self.peek() == 0 {
                        self.pos += 1;
                        break;
                    }
                    let len = self.path.len();
                    self.path.push_str(&format!("[{i}]"));
                    self.value();
                    self.path.truncate(len);
                    i += 1;
                    self.skip_ws();
                    if self.peek() == b',' {
                        self.pos += 1;
                    }
                }
            }
            b'"' => {
                self.string();
            }
            _ => {
                while !matches!(self.peek(), b',' | b'}' | b']' | 0)
                    && !self.peek().is_ascii_whitespace()
                {
                    self.pos += 1;
                }
            }
        }
    }

    /// Reads a string starting at '"' and returns its raw content (escapes kept).
    fn string(&mut self) -> String {
        self.pos += 1;
        let start = self.pos;
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'"' {
            if self.bytes[self.pos] == b'\\' {
                self.pos += 1;
            }
            self.pos += 1;
        }
        let s = String::from_utf8_lossy(&self.bytes[start..self.pos.min(self.bytes.len())])
            .into_owned();
        self.pos += 1;
        s
    }
}

fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields_and_falls_back_to_ancestors() {
        let text = "{\n  \"a\": 1,\n  \"regions\": [\n    {\"name\": \"x\"},\n    {\"turnout\": {\"value\": 2}}\n  ]\n}";
        assert_eq!(locate(text, "a"), Some((2, 8)));
        assert_eq!(locate(text, "regions[1].turnout.value"), Some((5, 27)));
        // A missing field points at its parent object.
        assert_eq!(locate(text, "regions[1].turnout.source"), Some((5, 17)));
        assert_eq!(locate(text, "regions[0].name"), Some((4, 14)));
    }

    #[test]
    fn finds_the_first_key_repeated_within_an_object() {
        let text = "{\"a\": {\"x\": 1, \"y\": 2},\n \"b\": [{\"x\": 1}, {\"x\": 2}],\n \"c\": {\"k\": 1,\n  \"k\": 2}}";
        assert_eq!(duplicate_key(text), Some(("c.k".to_string(), (4, 3))));
        // The same key in sibling objects is not a repeat.
        assert_eq!(duplicate_key("{\"b\": [{\"x\": 1}, {\"x\": 2}]}"), None);
    }
}
