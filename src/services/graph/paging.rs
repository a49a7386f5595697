//! Which `@odata.nextLink` a collection read may follow. The bearer token
//! goes with every page, so a link must stay on the origin the token is for
//! (Graph's, which the wizard signed in to); a link already followed, or
//! more pages than any tenant has, means a loop, and reading stops.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use url::Url;

/// The most pages one collection read follows: at `$top=999`, about five
/// million objects, more than a directory the wizard works with holds.
pub const MAX_PAGES: usize = 5_000;

/// The pages of one collection read so far.
pub struct Pager {
    origin: url::Origin,
    /// Hashes of the URLs read (a skip token can be long).
    seen: HashSet<u64>,
    max_pages: usize,
}

impl Pager {
    /// `first` is the first page; links must stay on `token_origin`.
    pub fn new(token_origin: &Url, first: &Url) -> Self {
        Self::with_max(token_origin, first, MAX_PAGES)
    }

    pub fn with_max(token_origin: &Url, first: &Url, max_pages: usize) -> Self {
        let mut seen = HashSet::new();
        seen.insert(key(first));
        Self {
            origin: token_origin.origin(),
            seen,
            max_pages,
        }
    }

    /// The next page to read, or why not (a sentence for the error's detail).
    pub fn next(&mut self, link: &str) -> Result<Url, PagingError> {
        let url = Url::parse(link).map_err(PagingError::NotAUrl)?;
        if url.origin() != self.origin {
            return Err(PagingError::OtherHost {
                found: url.origin().ascii_serialization(),
                expected: self.origin.ascii_serialization(),
            });
        }
        if !self.seen.insert(key(&url)) {
            return Err(PagingError::Loop);
        }
        if self.seen.len() > self.max_pages {
            return Err(PagingError::TooMany(self.max_pages));
        }
        Ok(url)
    }
}

/// Why the next page is not read (the detail of a `GraphError::UnexpectedBody`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    #[error("next page link is not a URL: {0}")]
    NotAUrl(url::ParseError),
    #[error(
        "next page link points to another host ({found}); the sign-in's token is only sent to {expected}"
    )]
    OtherHost { found: String, expected: String },
    #[error("next page link repeats a page already read; stopped reading to avoid a loop")]
    Loop,
    #[error("more than {0} pages; stopped reading")]
    TooMany(usize),
}

fn key(url: &Url) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    url.as_str().hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        s.parse().unwrap()
    }

    #[test]
    fn follows_new_links_on_the_same_origin() {
        let base = u("https://graph.microsoft.com/v1.0");
        let mut p = Pager::new(&base, &u("https://graph.microsoft.com/v1.0/users"));
        let next = p
            .next("https://graph.microsoft.com/v1.0/users?$skiptoken=a")
            .unwrap();
        assert_eq!(next.query(), Some("$skiptoken=a"));
        assert!(
            p.next("https://graph.microsoft.com/v1.0/users?$skiptoken=b")
                .is_ok()
        );
    }

    #[test]
    fn refuses_other_origins() {
        let base = u("https://graph.microsoft.com/v1.0");
        let mut p = Pager::new(&base, &u("https://graph.microsoft.com/v1.0/users"));
        for other in [
            "https://graph.microsoft.com.evil.test/v1.0/users?x",
            "http://graph.microsoft.com/v1.0/users?x",
            "https://graph.microsoft.com:8443/v1.0/users?x",
            "https://graph.microsoft.us/v1.0/users?x",
        ] {
            let e = p.next(other).unwrap_err();
            assert!(e.to_string().contains("another host"), "{other}: {e}");
        }
        assert!(
            p.next("/v1.0/users?relative")
                .unwrap_err()
                .to_string()
                .contains("not a URL")
        );
    }

    #[test]
    fn refuses_a_page_already_read() {
        let base = u("https://graph.microsoft.com/v1.0");
        let first = u("https://graph.microsoft.com/v1.0/users");
        let mut p = Pager::new(&base, &first);
        assert!(
            p.next(first.as_str())
                .unwrap_err()
                .to_string()
                .contains("already read")
        );
        p.next("https://graph.microsoft.com/v1.0/users?$skiptoken=a")
            .unwrap();
        assert!(
            p.next("https://graph.microsoft.com/v1.0/users?$skiptoken=a")
                .unwrap_err()
                .to_string()
                .contains("already read")
        );
    }

    #[test]
    fn stops_after_the_page_bound() {
        let base = u("https://graph.microsoft.com/v1.0");
        let mut p = Pager::with_max(&base, &u("https://graph.microsoft.com/v1.0/users"), 3);
        p.next("https://graph.microsoft.com/v1.0/users?p=2")
            .unwrap();
        p.next("https://graph.microsoft.com/v1.0/users?p=3")
            .unwrap();
        let e = p
            .next("https://graph.microsoft.com/v1.0/users?p=4")
            .unwrap_err();
        assert!(e.to_string().contains("more than 3 pages"), "{e}");
    }
}
