//! Substring search for log lines. `str::find` and `split_once` with a `&str` pattern
//! set up std's Two-Way searcher on every call, which on a 60-byte sshd message costs
//! more than the search (7% of an sshd parse before this module). Log-line haystacks
//! are short, so a `memchr` for the needle's first byte and a compare is the quicker
//! search; the methods keep std's results exactly (test below).

/// Substring search with std's semantics, for short texts.
pub(crate) trait Cut {
    /// Byte offset of the first `needle` (std's `find` with a `&str`).
    fn locate(&self, needle: &str) -> Option<usize>;
    /// Byte offset of the last `needle` (std's `rfind` with a `&str`).
    fn locate_last(&self, needle: &str) -> Option<usize>;
    /// Text before and after the first `needle` (std's `split_once` with a `&str`).
    fn cut<'a>(&'a self, needle: &str) -> Option<(&'a str, &'a str)>;
    /// Text before and after the last `needle` (std's `rsplit_once` with a `&str`).
    fn cut_last<'a>(&'a self, needle: &str) -> Option<(&'a str, &'a str)>;
    /// [`Cut::cut`] for a one-byte ASCII needle: one `memchr`, no compare.
    fn cut_byte(&self, needle: u8) -> Option<(&str, &str)>;
    /// [`Cut::cut_last`] for a one-byte ASCII needle.
    fn cut_last_byte(&self, needle: u8) -> Option<(&str, &str)>;
}

impl Cut for str {
    #[inline]
    fn locate(&self, needle: &str) -> Option<usize> {
        let (hay, n) = (self.as_bytes(), needle.as_bytes());
        let Some((&first, rest)) = n.split_first() else {
            return Some(0);
        };
        let mut from = 0;
        while let Some(i) = memchr::memchr(first, hay.get(from..)?) {
            let at = from + i;
            if hay[at + 1..].starts_with(rest) {
                return Some(at);
            }
            from = at + 1;
        }
        None
    }

    #[inline]
    fn locate_last(&self, needle: &str) -> Option<usize> {
        let (hay, n) = (self.as_bytes(), needle.as_bytes());
        let Some((&first, rest)) = n.split_first() else {
            return Some(hay.len());
        };
        let mut end = hay.len();
        while let Some(at) = memchr::memrchr(first, &hay[..end]) {
            if hay[at + 1..].starts_with(rest) {
                return Some(at);
            }
            end = at;
        }
        None
    }

    // A match of a whole UTF-8 needle starts and ends on character boundaries, so the
    // slicing below cannot panic.
    #[inline]
    fn cut<'a>(&'a self, needle: &str) -> Option<(&'a str, &'a str)> {
        let at = self.locate(needle)?;
        Some((&self[..at], &self[at + needle.len()..]))
    }

    #[inline]
    fn cut_last<'a>(&'a self, needle: &str) -> Option<(&'a str, &'a str)> {
        let at = self.locate_last(needle)?;
        Some((&self[..at], &self[at + needle.len()..]))
    }

    // An ASCII byte is a whole character wherever it is found in UTF-8 text, so the
    // slicing below cannot panic; a non-ASCII needle byte finds nothing to cut at.
    #[inline]
    fn cut_byte(&self, needle: u8) -> Option<(&str, &str)> {
        if !needle.is_ascii() {
            return None;
        }
        let at = memchr::memchr(needle, self.as_bytes())?;
        Some((&self[..at], &self[at + 1..]))
    }

    #[inline]
    fn cut_last_byte(&self, needle: u8) -> Option<(&str, &str)> {
        if !needle.is_ascii() {
            return None;
        }
        let at = memchr::memrchr(needle, self.as_bytes())?;
        Some((&self[..at], &self[at + 1..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_std() {
        let hays = [
            "",
            "a",
            "from",
            "from ",
            "admin from 10.0.0.1 from 10.0.0.2 port 22 ssh2",
            "ffrom frfrom from",
            "x for y for z",
            "héllo fór wörld fór",
            "aaaa",
        ];
        let needles = [
            "", "a", "aa", "from ", " from ", " for ", "fór", "ó", "z", "aaaaa",
        ];
        for hay in hays {
            for needle in needles {
                assert_eq!(hay.locate(needle), hay.find(needle), "{hay:?} {needle:?}");
                assert_eq!(
                    hay.locate_last(needle),
                    hay.rfind(needle),
                    "{hay:?} {needle:?}"
                );
                assert_eq!(
                    hay.cut(needle),
                    hay.split_once(needle),
                    "{hay:?} {needle:?}"
                );
                assert_eq!(
                    hay.cut_last(needle),
                    hay.rsplit_once(needle),
                    "{hay:?} {needle:?}"
                );
            }
            for needle in [b'a', b' ', b'z', b'f'] {
                let c = char::from(needle);
                assert_eq!(hay.cut_byte(needle), hay.split_once(c), "{hay:?} {c:?}");
                assert_eq!(hay.cut_last_byte(needle), hay.rsplit_once(c), "{hay:?} {c:?}");
            }
            assert_eq!(hay.cut_byte(0xC3), None, "{hay:?}: a UTF-8 lead byte is no needle");
        }
    }
}
