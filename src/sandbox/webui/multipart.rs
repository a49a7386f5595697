//! Reading a `multipart/form-data` body (RFC 7578 on RFC 2046 §5.1), which a
//! browser sends for a form with a file field: only what the sandbox's web
//! UI needs (named parts, an optional file name, the raw bytes).

/// One form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the form was not sent as multipart/form-data with a boundary")]
    NoBoundary,
    #[error("the form body is not valid multipart/form-data ({0})")]
    Malformed(&'static str),
}

/// The boundary of a `Content-Type: multipart/form-data; boundary=…` value.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut params = content_type.split(';');
    let kind = params.next().unwrap_or_default().trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return Err(MultipartError::NoBoundary);
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        // RFC 2046 §5.1.1: 1 to 70 characters.
        .filter(|b| (1..=70).contains(&b.len()))
        .ok_or(MultipartError::NoBoundary)
}

/// The parts of `body`, in order.
pub fn parse(boundary: &str, body: &[u8]) -> Result<Vec<Part>, MultipartError> {
    let first = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let start = find(body, first.as_bytes()).ok_or(MultipartError::Malformed("no boundary"))?;
    let mut rest = &body[start + first.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or(MultipartError::Malformed("no line break after a boundary"))?;
        let head_end =
            find(rest, b"\r\n\r\n").ok_or(MultipartError::Malformed("a part has no headers"))?;
        let head = std::str::from_utf8(&rest[..head_end])
            .map_err(|_| MultipartError::Malformed("part headers are not UTF-8"))?;
        let content = &rest[head_end + 4..];
        let end = find(content, delimiter.as_bytes())
            .ok_or(MultipartError::Malformed("the closing boundary is missing"))?;
        let (name, filename) = disposition(head)?;
        parts.push(Part {
            name,
            filename,
            data: content[..end].to_vec(),
        });
        rest = &content[end + delimiter.len()..];
    }
}

/// `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(head: &str) -> Result<(String, Option<String>), MultipartError> {
    let value = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
        .map(|(_, v)| v)
        .ok_or(MultipartError::Malformed(
            "a part has no Content-Disposition",
        ))?;
    let param = |wanted: &str| {
        value
            .split(';')
            .skip(1)
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(wanted))
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
    };
    let name = param("name").ok_or(MultipartError::Malformed("a part has no name"))?;
    Ok((name, param("filename")))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_a_file_as_a_browser_sends_them() {
        let ct = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk";
        let b = boundary(ct).unwrap();
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nEntra SSO\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"Orchidea.xml\"\r\n\
             Content-Type: text/xml\r\n\r\n<a>\r\n--x</a>\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n--{b}--\r\n"
        );
        let parts = parse(&b, body.as_bytes()).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "name");
        assert_eq!(parts[0].data, b"Entra SSO");
        assert_eq!(parts[1].filename.as_deref(), Some("Orchidea.xml"));
        assert_eq!(
            parts[1].data, b"<a>\r\n--x</a>",
            "a near-boundary stays data"
        );
        assert_eq!(parts[2].data, b"");
    }

    #[test]
    fn refuses_what_is_not_multipart() {
        assert_eq!(
            boundary("application/x-www-form-urlencoded"),
            Err(MultipartError::NoBoundary)
        );
        assert_eq!(
            boundary("multipart/form-data"),
            Err(MultipartError::NoBoundary)
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"q r\"").unwrap(),
            "q r"
        );
        assert!(parse("b", b"no boundary here").is_err());
        assert!(
            parse(
                "b",
                b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"
            )
            .is_err()
        );
        assert!(parse("b", b"--b\r\nX: y\r\n\r\nx\r\n--b--").is_err());
        assert_eq!(parse("b", b"--b--\r\n").unwrap(), vec![]);
    }
}
