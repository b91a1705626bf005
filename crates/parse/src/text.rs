//! Substring search for log lines. `str::find` and `split_once` with a `&str` pattern
//! set up std's Two-Way searcher on every call, which on a 60-byte sshd message costs
//! more than the search (7% of an sshd parse before this module). Log-line haystacks
//! are short, so a `memchr` for the needle's first byte and a compare is the quicker
//! search; the methods keep std's results exactly (test below).

/// Below this many bytes a one-byte search is a plain loop: the words of a log line
/// (an address, a method, a user) are shorter than a vector search's set-up.
const SHORT: usize = 32;

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
        let hay = self.as_bytes();
        let at = if hay.len() < SHORT {
            hay.iter().position(|&b| b == needle)
        } else {
            memchr::memchr(needle, hay)
        }?;
        Some((&self[..at], &self[at + 1..]))
    }

    #[inline]
    fn cut_last_byte(&self, needle: u8) -> Option<(&str, &str)> {
        if !needle.is_ascii() {
            return None;
        }
        let hay = self.as_bytes();
        let at = if hay.len() < SHORT {
            hay.iter().rposition(|&b| b == needle)
        } else {
            memchr::memrchr(needle, hay)
        }?;
        Some((&self[..at], &self[at + 1..]))
    }
}

/// Whether `s` is an IPv4 address as std reads one (`s.parse::<Ipv4Addr>().is_ok()`):
/// four decimal octets up to 255, without leading zeros. A parsed IPv4 address is
/// written canonically already, so its text can be stored as it is; std's parser (for
/// any address family, with its error values) cost as much as the rest of setting
/// `source.ip`.
pub(crate) fn is_ipv4(s: &str) -> bool {
    let b = s.as_bytes();
    if !(7..=15).contains(&b.len()) {
        return false;
    }
    let mut octets = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &c in b {
        if c == b'.' {
            if digits == 0 || octets == 3 {
                return false;
            }
            octets += 1;
            value = 0;
            digits = 0;
        } else if c.is_ascii_digit() {
            // A leading zero is refused (`01`), as std refuses it.
            if digits == 1 && value == 0 {
                return false;
            }
            value = value * 10 + u32::from(c - b'0');
            digits += 1;
            if value > 255 {
                return false;
            }
        } else {
            return false;
        }
    }
    octets == 3 && digits > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_is_what_std_reads() {
        use std::net::Ipv4Addr;
        let mut inputs: Vec<String> = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3.4",
            "1..2.3",
            "1.2.3.4.5",
            "1.2.3.04",
            "10.0.0.1 ",
            " 10.0.0.1",
            "1.2.3.a",
            "1000.1.1.1",
            "192.168.000.1",
            "::1",
            "1.2.3.-4",
            "+1.2.3.4",
            "1.2.3.4/24",
            "",
        ]
        .map(String::from)
        .to_vec();
        // Every short string over the alphabet that matters, and numbers around the edges.
        let alphabet = ['0', '1', '2', '5', '9', '.', 'x'];
        let mut short = vec![String::new()];
        for _ in 0..7 {
            short = short
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            inputs.extend(short.iter().cloned());
        }
        for a in [0, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255, 256, 999] {
            inputs.push(format!("{a}.{a}.{a}.{a}"));
            inputs.push(format!("1.{a}.0{a}.1"));
        }
        for input in &inputs {
            assert_eq!(
                is_ipv4(input),
                input.parse::<Ipv4Addr>().is_ok(),
                "{input:?}"
            );
        }
        assert!(inputs.len() > 900_000, "{}", inputs.len());
    }

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
            "a longer haystack, past the thirty-two bytes of a short one: a f z",
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
                assert_eq!(
                    hay.cut_last_byte(needle),
                    hay.rsplit_once(c),
                    "{hay:?} {c:?}"
                );
            }
            assert_eq!(
                hay.cut_byte(0xC3),
                None,
                "{hay:?}: a UTF-8 lead byte is no needle"
            );
        }
    }
}
