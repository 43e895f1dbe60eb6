//! Don't trust the client: every field of a registration is checked and normalised here.
//!
//! A request may come from our app, an old version of it, or a script someone wrote against our
//! API; the service cannot tell. So the rules live in the service, not in a handler: HTTP and gRPC
//! callers get the same checks, and the same field names in their errors. Normalising (trimming,
//! lower-casing the email, stripping spaces from phone numbers) happens before checking, so that
//! `" Ada@Example.com "` and `"ada@example.com"` are one account.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::error::ServiceError;
use crate::user::Registration;

/// The age a user must have reached to register.
pub const ADULT_AGE: u32 = 18;
/// Older than this is a typo, not a customer.
pub const OLDEST_PLAUSIBLE_AGE: u32 = 130;
/// RFC 5321's limits for a whole address and for the part before the `@`.
pub const EMAIL_MAX: usize = 254;
pub const EMAIL_LOCAL_MAX: usize = 64;
/// In characters, not bytes: "Nguyễn" is six.
pub const NAME_MAX: usize = 100;
/// E.164 allows up to 15 digits; fewer than 8 is no real subscriber number.
pub const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 8..=15;

/// A registration whose every field passed, in normal form.
#[derive(Debug, Clone, PartialEq, Eq)]
// For mutation testing only (the `mutants` feature): see `User`.
#[cfg_attr(feature = "mutants", derive(Default))]
pub struct ValidRegistration {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub phone: Option<String>,
}

// ANCHOR: validate
/// Checks the fields in the order a form shows them and reports the first that fails.
pub fn validate(input: &Registration, today: NaiveDate) -> Result<ValidRegistration, ServiceError> {
    Ok(ValidRegistration {
        email: email(&input.email)?,
        first_name: name("first_name", &input.first_name)?,
        last_name: name("last_name", &input.last_name)?,
        date_of_birth: date_of_birth(&input.date_of_birth, today)?,
        phone: phone(input.phone.as_deref())?,
    })
}
// ANCHOR_END: validate

/// A trimmed, lower-cased email address with one `@`, a plausible local part and a domain of
/// dot-separated labels ending in an alphabetic top-level domain.
pub fn email(raw: &str) -> Result<String, ServiceError> {
    let invalid = |message: &str| Err(ServiceError::invalid("email", message));
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return invalid("is required");
    }
    if email.len() > EMAIL_MAX {
        return invalid("is longer than 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid("must contain an @");
    };
    if domain.contains('@') {
        return invalid("must contain exactly one @");
    }
    if local.is_empty() || local.len() > EMAIL_LOCAL_MAX {
        return invalid("must have 1 to 64 characters before the @");
    }
    let local_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c);
    if !local.chars().all(local_char) || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return invalid("has a character or a dot that is not allowed before the @");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let top_level = labels[labels.len() - 1];
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return invalid("must have a domain such as example.com after the @");
    }
    if top_level.len() < 2 || !top_level.chars().all(|c| c.is_ascii_alphabetic()) {
        return invalid("must end in a top-level domain of letters, such as .com");
    }
    Ok(email)
}

// ANCHOR: name
/// A trimmed name of 1 to 100 characters, in NFC: letters of any script with their combining
/// marks (Thai tone marks, Tamil vowel signs, the accents of a decomposed "Nguyễn"), spaces, and
/// the punctuation names use: apostrophes (' and the ’ that phones type), hyphens, dots and
/// middle dots ("Gal·la", "さとう・ゆうき"). At least one letter. Digits, markup, control and
/// invisible characters (a zero-width space, a right-to-left override) are refused.
pub fn name(field: &'static str, raw: &str) -> Result<String, ServiceError> {
    // One form for every way of typing the same name: "Nguyễn" composed or decomposed is one
    // string when stored and when compared.
    let name: String = raw.trim().nfc().collect();
    if name.is_empty() {
        return Err(ServiceError::invalid(field, "is required"));
    }
    if name.chars().count() > NAME_MAX {
        return Err(ServiceError::invalid(field, "is longer than 100 characters"));
    }
    let allowed = |c: char| c.is_alphabetic() || is_combining_mark(c) || NAME_PUNCTUATION.contains(&c);
    if !name.chars().all(allowed) || !name.chars().any(char::is_alphabetic) {
        return Err(ServiceError::invalid(
            field,
            "may contain only letters, spaces, apostrophes, hyphens and dots",
        ));
    }
    Ok(name)
}
// ANCHOR_END: name

/// The punctuation that names use, besides letters and their marks.
const NAME_PUNCTUATION: [char; 8] = [
    ' ', '\'', '\u{2019}', // apostrophe, right single quotation mark (O’Brien)
    '-', '\u{2010}', // hyphen-minus, hyphen
    '.', '\u{00B7}', '\u{30FB}', // full stop, middle dot (Gal·la), katakana middle dot
];

/// A `YYYY-MM-DD` date at least [`ADULT_AGE`] years before `today`, and not absurdly long ago.
pub fn date_of_birth(raw: &str, today: NaiveDate) -> Result<NaiveDate, ServiceError> {
    let invalid = |message: &str| Err(ServiceError::invalid("date_of_birth", message));
    let raw = raw.trim();
    if raw.is_empty() {
        return invalid("is required");
    }
    // chrono would accept `2000-1-5`; the contract says YYYY-MM-DD, so the length is checked too.
    let Some(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10)
    else {
        return invalid("must be a date written YYYY-MM-DD");
    };
    match today.years_since(date) {
        None => invalid("is in the future"),
        Some(age) if age < ADULT_AGE => invalid("says the user is under 18"),
        Some(age) if age > OLDEST_PLAUSIBLE_AGE => invalid("says the user is over 130"),
        Some(_) => Ok(date),
    }
}

/// An optional phone number in international form. Spaces, dashes, dots and parentheses are
/// removed; what remains must be `+` and 8 to 15 digits, the first not zero. Empty means none.
pub fn phone(raw: Option<&str>) -> Result<Option<String>, ServiceError> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(None);
    };
    let compact: String = raw.chars().filter(|c| !" -.()".contains(*c)).collect();
    let international = compact.strip_prefix('+').is_some_and(|digits| {
        PHONE_DIGITS.contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0')
    });
    if international {
        Ok(Some(compact))
    } else {
        Err(ServiceError::invalid(
            "phone",
            "must be in international form: + and 8 to 15 digits, such as +84 90 123 4567",
        ))
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn ada() -> Registration {
        Registration {
            email: "ada@example.com".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            date_of_birth: "1990-12-10".into(),
            phone: Some("+447700900123".into()),
        }
    }

    /// An address of exactly `len` characters: 64 before the `@`, labels of at most 63 after it.
    fn address(len: usize) -> String {
        let mut domain = String::from("com");
        while 65 + domain.len() < len {
            let room = len - 65 - domain.len();
            domain = format!("{}.{domain}", "b".repeat((room - 1).clamp(1, 63)));
        }
        let address = format!("{}@{domain}", "a".repeat(64));
        assert_eq!(address.len(), len);
        address
    }

    /// Ada's registration with one field changed.
    fn with(field: &str, value: &str) -> Registration {
        let mut input = ada();
        match field {
            "email" => input.email = value.into(),
            "first_name" => input.first_name = value.into(),
            "last_name" => input.last_name = value.into(),
            "date_of_birth" => input.date_of_birth = value.into(),
            "phone" => input.phone = Some(value.into()),
            other => panic!("no field {other}"),
        }
        input
    }

    // ANCHOR: accepted
    /// Inputs that pass, and the normal form they are stored in.
    #[rstest]
    #[case::plain("email", "ada@example.com", "ada@example.com")]
    #[case::trimmed_and_lower_cased("email", "  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com")]
    #[case::plus_and_subdomain("email", "ada+shop@mail.example.co.uk", "ada+shop@mail.example.co.uk")]
    #[case::hyphenated_domain("email", "ada@my-shop.example.com", "ada@my-shop.example.com")]
    #[case::local_part_of_64("email", &format!("{}@example.com", "a".repeat(64)), &format!("{}@example.com", "a".repeat(64)))]
    #[case::address_of_254("email", &address(254), "")]
    #[case::unicode_name("first_name", "  Nguyễn ", "Nguyễn")]
    #[case::apostrophe("last_name", "O'Brien", "O'Brien")]
    #[case::hyphen_and_dot("first_name", "Jean-Luc Jr.", "Jean-Luc Jr.")]
    #[case::name_of_100("last_name", &"é".repeat(100), &"é".repeat(100))]
    // From the W3C's "Personal names around the world": names as people type them.
    #[case::typographic_apostrophe("last_name", "O\u{2019}Brien", "O\u{2019}Brien")]
    #[case::thai_with_tone_marks("first_name", "กิ่งแก้ว", "กิ่งแก้ว")]
    #[case::tamil("first_name", "தமிழ்", "தமிழ்")]
    #[case::decomposed_becomes_composed("last_name", "Nguye\u{0302}\u{0303}n", "Nguyễn")]
    #[case::japanese_with_middle_dot("first_name", "さとう・ゆうき", "さとう・ゆうき")]
    #[case::catalan_middle_dot("last_name", "Gal·la", "Gal·la")]
    #[case::eighteen_today("date_of_birth", "2008-11-22", "2008-11-22")]
    #[case::a_day_before_131("date_of_birth", "1895-11-23", "1895-11-23")]
    #[case::phone_with_spaces("phone", "+84 90 123 4567", "+84901234567")]
    #[case::phone_with_punctuation("phone", "+1 (415) 555-0100", "+14155550100")]
    #[case::phone_of_8_digits("phone", "+12345678", "+12345678")]
    #[case::phone_of_15_digits("phone", "+123456789012345", "+123456789012345")]
    fn accepted(#[case] field: &str, #[case] value: &str, #[case] normal: &str) {
        let valid = validate(&with(field, value), today()).unwrap_or_else(|e| panic!("{field}={value:?}: {e}"));
        let stored = match field {
            "email" => valid.email,
            "first_name" => valid.first_name,
            "last_name" => valid.last_name,
            "date_of_birth" => valid.date_of_birth.to_string(),
            "phone" => valid.phone.unwrap(),
            _ => unreachable!(),
        };
        let expected = if normal.is_empty() {
            value.trim().to_lowercase()
        } else {
            normal.to_owned()
        };
        assert_eq!(stored, expected);
    }
    // ANCHOR_END: accepted

    // ANCHOR: rejected
    /// Inputs that fail, the field the error names and a word of its message.
    #[rstest]
    #[case::email_missing("email", "   ", "required")]
    #[case::email_without_at("email", "ada.example.com", "an @")]
    #[case::email_with_two_ats("email", "ada@lovelace@example.com", "exactly one @")]
    #[case::email_local_part_of_65("email", &format!("{}@example.com", "a".repeat(65)), "1 to 64")]
    #[case::email_of_255("email", &address(255), "254")]
    #[case::email_empty_local_part("email", "@example.com", "1 to 64")]
    #[case::email_double_dot("email", "ada..lovelace@example.com", "not allowed")]
    #[case::email_leading_dot("email", ".ada@example.com", "not allowed")]
    #[case::email_trailing_dot("email", "ada.@example.com", "not allowed")]
    #[case::email_space_inside("email", "ada lovelace@example.com", "not allowed")]
    #[case::email_no_dot_in_domain("email", "ada@localhost", "domain")]
    #[case::email_underscore_in_domain("email", "ada@my_shop.com", "domain")]
    #[case::email_empty_label("email", "ada@example..com", "domain")]
    #[case::email_label_starts_with_hyphen("email", "ada@-example.com", "domain")]
    #[case::email_label_ends_with_hyphen("email", "ada@example-.com", "domain")]
    #[case::email_label_of_64("email", &format!("ada@{}.com", "b".repeat(64)), "domain")]
    #[case::email_numeric_tld("email", "ada@example.123", "top-level")]
    #[case::email_one_letter_tld("email", "ada@example.c", "top-level")]
    #[case::first_name_missing("first_name", "", "required")]
    #[case::first_name_digits("first_name", "R2D2", "only letters")]
    #[case::last_name_markup("last_name", "<script>", "only letters")]
    #[case::last_name_only_punctuation("last_name", "-.'", "only letters")]
    #[case::last_name_of_101("last_name", &"é".repeat(101), "100")]
    #[case::zero_width_space("first_name", "Ad\u{200B}a", "only letters")]
    #[case::right_to_left_override("first_name", "Ada\u{202E}", "only letters")]
    #[case::control_character("last_name", "Love\u{0007}lace", "only letters")]
    #[case::only_a_combining_mark("last_name", "\u{0301}", "only letters")]
    #[case::date_missing("date_of_birth", " ", "required")]
    #[case::date_written_otherwise("date_of_birth", "10/12/1990", "YYYY-MM-DD")]
    #[case::date_short_form("date_of_birth", "1990-1-5", "YYYY-MM-DD")]
    #[case::date_impossible("date_of_birth", "1990-02-30", "YYYY-MM-DD")]
    #[case::date_in_future("date_of_birth", "2026-11-23", "future")]
    #[case::eighteen_tomorrow("date_of_birth", "2008-11-23", "under 18")]
    #[case::turned_131_today("date_of_birth", "1895-11-22", "over 130")]
    #[case::phone_without_plus("phone", "0901234567", "international")]
    #[case::phone_letters("phone", "+84 90 CALL ME", "international")]
    #[case::phone_of_7_digits("phone", "+1234567", "international")]
    #[case::phone_of_16_digits("phone", "+1234567890123456", "international")]
    #[case::phone_leading_zero("phone", "+0123456789", "international")]
    #[case::phone_only_plus("phone", "+", "international")]
    fn rejected(#[case] field: &str, #[case] value: &str, #[case] says: &str) {
        match validate(&with(field, value), today()) {
            Err(ServiceError::InvalidArgument { field: named, message }) => {
                assert_eq!(named, field, "{value:?}: {message}");
                assert!(
                    message.contains(says),
                    "{field}={value:?}: {message:?} should say {says:?}"
                );
            }
            other => panic!("{field}={value:?} should be rejected, got {other:?}"),
        }
    }
    // ANCHOR_END: rejected

    #[test]
    fn an_absent_or_blank_phone_is_no_phone() {
        let mut input = ada();
        input.phone = None;
        assert_eq!(validate(&input, today()).unwrap().phone, None);
        input.phone = Some("   ".into());
        assert_eq!(validate(&input, today()).unwrap().phone, None);
    }

    #[test]
    fn the_first_failing_field_in_form_order_is_reported() {
        let input = Registration {
            first_name: "R2D2".into(),
            date_of_birth: "tomorrow".into(),
            ..ada()
        };
        assert_eq!(validate(&input, today()).unwrap_err().field(), Some("first_name"));
        let input = Registration {
            email: "nope".into(),
            ..input
        };
        assert_eq!(validate(&input, today()).unwrap_err().field(), Some("email"));
    }
}
