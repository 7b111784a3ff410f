//! Redis's glob matcher (`stringmatchlen` of `util.c`, case-sensitive),
//! ported so that a fuzz target can ask what a `SCAN MATCH` pattern
//! matches without a server.

/// Whether `pattern` matches all of `string`, as Redis decides it (the C
/// code's pointer steps, as indices).
pub fn matches(pattern: &[u8], string: &[u8]) -> bool {
    let (mut p, mut s) = (0, 0);
    let (plen, slen) = (pattern.len(), string.len());
    while p < plen && s < slen {
        match pattern[p] {
            b'*' => {
                while p + 1 < plen && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == plen {
                    return true;
                }
                while s < slen {
                    if matches(&pattern[p + 1..], &string[s..]) {
                        return true;
                    }
                    s += 1;
                }
                return false;
            }
            b'?' => s += 1,
            b'[' => {
                p += 1;
                let not = p < plen && pattern[p] == b'^';
                if not {
                    p += 1;
                }
                let mut hit = false;
                loop {
                    if p + 1 < plen && pattern[p] == b'\\' {
                        p += 1;
                        hit |= pattern[p] == string[s];
                    } else if p < plen && pattern[p] == b']' {
                        break;
                    } else if p >= plen {
                        // Unterminated: back up onto the last character.
                        p -= 1;
                        break;
                    } else if p + 2 < plen && pattern[p + 1] == b'-' {
                        let (mut lo, mut hi) = (pattern[p], pattern[p + 2]);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        p += 2;
                        hit |= (lo..=hi).contains(&string[s]);
                    } else {
                        hit |= pattern[p] == string[s];
                    }
                    p += 1;
                }
                if not {
                    hit = !hit;
                }
                if !hit {
                    return false;
                }
                s += 1;
            }
            c => {
                let c = if c == b'\\' && p + 1 < plen {
                    p += 1;
                    pattern[p]
                } else {
                    c
                };
                if c != string[s] {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == slen {
            while p < plen && pattern[p] == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == plen && s == slen
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_semantics() {
        assert!(matches(b"a*", b"abc"));
        assert!(matches(b"a\\*", b"a*"));
        assert!(!matches(b"a\\*", b"ab"));
        assert!(matches(b"h?llo", b"hello"));
        assert!(matches(b"h[ae]llo", b"hallo"));
        assert!(!matches(b"h[^e]llo", b"hello"));
        assert!(matches(b"h[a-b]llo", b"hbllo"));
        assert!(matches(b"\\[x\\]*", b"[x]y"));
        assert!(!matches(b"\\[x\\]*", b"xy"));
        assert!(!matches(b"*", b""), "Redis never matches an empty string");
        assert!(!matches(b"a", b""));
        assert!(matches(b"a[b", b"ab"), "an unterminated class ends the pattern");
    }
}
