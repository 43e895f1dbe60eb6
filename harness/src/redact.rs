//! URLs as the harness prints them: with any password masked.
//!
//! A `WORKBOOK_POSTGRES_URL` may carry a password (`postgres://app:secret@db/app`), and the URL
//! appears in the messages that say what could not be reached. Those messages end up in CI logs
//! and bug reports, so every URL the harness or the CLI prints goes through [`masked`] first.

/// `url` with its password, if it has one, replaced by `***`. Text that is not a URL is masked
/// the same way where it looks like `scheme://user:password@...`; anything else is returned as it
/// is (a Kafka bootstrap list, say).
pub fn masked(url: &str) -> String {
    if let Ok(mut parsed) = url::Url::parse(url)
        && parsed.password().is_some()
    {
        let _ = parsed.set_password(Some("***"));
        return parsed.into();
    }
    mask_by_hand(url)
}

/// The same, for text that does not parse as a URL: the part between `user:` and `@`.
fn mask_by_hand(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &text[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return text.to_owned();
    };
    let Some(colon) = rest[..at].find(':') else {
        return text.to_owned();
    };
    format!("{}{}***{}", &text[..authority_start], &rest[..=colon], &rest[at..])
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::masked;

    #[rstest]
    #[case("postgres://app:hunter2@db:5432/app", "postgres://app:***@db:5432/app")]
    #[case("mysql://root:p%40ss@127.0.0.1:3306/mysql", "mysql://root:***@127.0.0.1:3306/mysql")]
    #[case("redis://:hunter2@127.0.0.1:6379", "redis://:***@127.0.0.1:6379")]
    #[case(
        "postgres://postgres@127.0.0.1:5432/postgres",
        "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    #[case("127.0.0.1:9092", "127.0.0.1:9092")]
    #[case("postgres://app:hunter2@db:bad-port/app", "postgres://app:***@db:bad-port/app")]
    fn passwords_never_survive(#[case] url: &str, #[case] shown: &str) {
        assert_eq!(masked(url), shown);
        assert!(!masked(url).contains("hunter2"));
    }
}
