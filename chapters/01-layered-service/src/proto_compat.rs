//! Backward compatibility of the gRPC contract, checked by a test instead of a reviewer's memory.
//!
//! Services built against an older `users.proto` keep running after ours is upgraded; they still
//! send field 6 meaning "phone" and still call `GetUser`. A change is *breaking* when such an old
//! client would now be misunderstood or refused. [`breaking_changes`] compares the compiled
//! contract with the last released one and lists every such change, naming the field or rpc:
//! - a message, service or rpc removed;
//! - a field removed without reserving its number and name (a later field could reuse them and
//!   old clients would write the wrong data into it);
//! - a field renamed (the JSON mapping and generated code use the name), given another number, or
//!   another type or cardinality;
//! - an rpc whose request or response type or streaming changed.
//!
//! Additions (fields, messages, rpcs) are never breaking. Enums are not compared: this contract has
//! none.

use std::collections::HashMap;

use prost_types::field_descriptor_proto::Label;
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet, ServiceDescriptorProto};

/// Every breaking change from `baseline` to `current`, one sentence each.
pub fn breaking_changes(baseline: &FileDescriptorSet, current: &FileDescriptorSet) -> Vec<String> {
    let (old, new) = (Contract::of(baseline), Contract::of(current));
    let mut changes = Vec::new();
    for (name, message) in &old.messages {
        match new.messages.get(name) {
            None => changes.push(format!("message {name} was removed")),
            Some(current) => compare_message(name, message, current, &mut changes),
        }
    }
    for (name, service) in &old.services {
        match new.services.get(name) {
            None => changes.push(format!("service {name} was removed")),
            Some(current) => compare_service(name, service, current, &mut changes),
        }
    }
    changes.sort();
    changes
}

/// The messages and services of a descriptor set, by full name (`users.v1.User`).
struct Contract<'a> {
    messages: HashMap<String, &'a DescriptorProto>,
    services: HashMap<String, &'a ServiceDescriptorProto>,
}

impl<'a> Contract<'a> {
    fn of(set: &'a FileDescriptorSet) -> Self {
        let mut contract = Contract {
            messages: HashMap::new(),
            services: HashMap::new(),
        };
        for file in &set.file {
            let package = file.package();
            for message in &file.message_type {
                contract.add_message(package, message);
            }
            for service in &file.service {
                contract
                    .services
                    .insert(format!("{package}.{}", service.name()), service);
            }
        }
        contract
    }

    fn add_message(&mut self, scope: &str, message: &'a DescriptorProto) {
        let name = format!("{scope}.{}", message.name());
        for nested in &message.nested_type {
            self.add_message(&name, nested);
        }
        self.messages.insert(name, message);
    }
}

fn compare_message(name: &str, old: &DescriptorProto, new: &DescriptorProto, changes: &mut Vec<String>) {
    for field in &old.field {
        let (number, field_name) = (field.number(), field.name());
        let path = format!("{name}.{field_name}");
        if let Some(current) = new.field.iter().find(|f| f.number() == number) {
            if current.name() != field_name {
                changes.push(format!("field {path} ({number}) was renamed to {}", current.name()));
            }
            if type_of(current) != type_of(field) {
                changes.push(format!(
                    "field {path} ({number}) changed type from {} to {}",
                    type_of(field),
                    type_of(current)
                ));
            }
            if is_repeated(current) != is_repeated(field) {
                changes.push(format!("field {path} ({number}) changed between singular and repeated"));
            }
        } else if let Some(moved) = new.field.iter().find(|f| f.name() == field_name) {
            changes.push(format!(
                "field {path} changed number from {number} to {}",
                moved.number()
            ));
        } else {
            let number_reserved = new
                .reserved_range
                .iter()
                .any(|r| (r.start()..r.end()).contains(&number));
            let name_reserved = new.reserved_name.iter().any(|reserved| reserved == field_name);
            if !number_reserved {
                changes.push(format!(
                    "field {path} ({number}) was removed without `reserved {number};`"
                ));
            } else if !name_reserved {
                changes.push(format!(
                    "field {path} ({number}) was removed without `reserved \"{field_name}\";`"
                ));
            }
        }
    }
}

fn compare_service(name: &str, old: &ServiceDescriptorProto, new: &ServiceDescriptorProto, changes: &mut Vec<String>) {
    for method in &old.method {
        let path = format!("{name}.{}", method.name());
        let Some(current) = new.method.iter().find(|m| m.name() == method.name()) else {
            changes.push(format!("rpc {path} was removed"));
            continue;
        };
        if current.input_type() != method.input_type() {
            changes.push(format!(
                "rpc {path} changed its request from {} to {}",
                method.input_type().trim_start_matches('.'),
                current.input_type().trim_start_matches('.')
            ));
        }
        if current.output_type() != method.output_type() {
            changes.push(format!(
                "rpc {path} changed its response from {} to {}",
                method.output_type().trim_start_matches('.'),
                current.output_type().trim_start_matches('.')
            ));
        }
        if current.client_streaming() != method.client_streaming()
            || current.server_streaming() != method.server_streaming()
        {
            changes.push(format!("rpc {path} changed its streaming"));
        }
    }
}

/// `string`, `int64`, or a message's full name.
fn type_of(field: &FieldDescriptorProto) -> String {
    match field.type_name() {
        "" => format!("{:?}", field.r#type()).to_lowercase(),
        message => message.trim_start_matches('.').to_owned(),
    }
}

fn is_repeated(field: &FieldDescriptorProto) -> bool {
    field.label() == Label::Repeated
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use rstest::rstest;

    use super::*;

    const CONTRACT: &str = "users/v1/users.proto";

    fn proto_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("proto")
    }

    fn compile(include: &Path) -> FileDescriptorSet {
        protox::compile([CONTRACT], [include]).unwrap_or_else(|e| panic!("{}: {e}", include.display()))
    }

    /// The current contract with `edit` applied, compiled from a scratch directory.
    fn edited(edit: impl Fn(&str) -> String) -> FileDescriptorSet {
        let original = std::fs::read_to_string(proto_dir().join(CONTRACT)).unwrap();
        let changed = edit(&original);
        assert_ne!(changed, original, "the edit changed nothing");
        let dir = std::env::temp_dir().join(format!("ch01-proto-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(dir.join("users/v1")).unwrap();
        std::fs::write(dir.join(CONTRACT), changed).unwrap();
        let compiled = compile(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        compiled
    }

    // ANCHOR: baseline_test
    #[test]
    fn the_contract_has_no_breaking_change_since_the_baseline() {
        let baseline = compile(&proto_dir().join("baseline"));
        let current = compile(&proto_dir());
        let changes = breaking_changes(&baseline, &current);
        assert!(
            changes.is_empty(),
            "users.proto breaks clients built against the released contract (proto/baseline):\n{}",
            changes.join("\n")
        );
    }
    // ANCHOR_END: baseline_test

    // ANCHOR: broken_copies
    #[rstest]
    #[case::field_removed(|p: &str| p.replace("  optional string phone = 6;\n", ""), "field users.v1.User.phone (6) was removed without `reserved 6;`")]
    #[case::field_renumbered(|p: &str| p.replace("optional string phone = 6;", "optional string phone = 9;"), "field users.v1.User.phone changed number from 6 to 9")]
    #[case::field_retyped(|p: &str| p.replace("string email = 2;", "bytes email = 2;"), "field users.v1.User.email (2) changed type from string to bytes")]
    #[case::field_renamed(|p: &str| p.replace("string first_name = 3;", "string given_name = 3;"), "field users.v1.User.first_name (3) was renamed to given_name")]
    #[case::field_made_repeated(|p: &str| p.replace("string last_name = 4;", "repeated string last_name = 4;"), "field users.v1.User.last_name (4) changed between singular and repeated")]
    #[case::rpc_removed(|p: &str| p.replace("  rpc GetUser(GetUserRequest) returns (GetUserResponse);\n", ""), "rpc users.v1.Users.GetUser was removed")]
    #[case::rpc_request_changed(|p: &str| p.replace("rpc GetUser(GetUserRequest)", "rpc GetUser(FindUserByEmailRequest)"), "rpc users.v1.Users.GetUser changed its request from users.v1.GetUserRequest to users.v1.FindUserByEmailRequest")]
    #[case::rpc_made_streaming(|p: &str| p.replace("returns (GetUserResponse)", "returns (stream GetUserResponse)"), "rpc users.v1.Users.GetUser changed its streaming")]
    #[case::message_removed(|p: &str| p.replace("message GetUserResponse {\n  User user = 1;\n}\n", "").replace("returns (GetUserResponse)", "returns (FindUserByEmailResponse)"), "message users.v1.GetUserResponse was removed")]
    fn a_broken_copy_is_caught_and_the_change_named(#[case] edit: fn(&str) -> String, #[case] expected: &str) {
        let released = compile(&proto_dir());
        let changes = breaking_changes(&released, &edited(edit));
        assert!(
            changes.iter().any(|change| change == expected),
            "expected {expected:?} among {changes:#?}"
        );
    }
    // ANCHOR_END: broken_copies

    #[rstest]
    #[case::field_added(|p: &str| p.replace("  reserved 8;\n", "  string nickname = 9;\n  reserved 8;\n"))]
    #[case::field_removed_and_reserved(|p: &str| p.replace("  optional string phone = 6;\n", "  reserved 6;\n  reserved \"phone\";\n"))]
    #[case::rpc_added(|p: &str| p.replace("service Users {\n", "service Users {\n  rpc Ping(GetUserRequest) returns (GetUserResponse);\n"))]
    fn additions_and_reserved_removals_are_not_breaking(#[case] edit: fn(&str) -> String) {
        let released = compile(&proto_dir());
        assert_eq!(breaking_changes(&released, &edited(edit)), Vec::<String>::new());
    }

    #[test]
    fn a_removal_must_reserve_the_name_too() {
        let released = compile(&proto_dir());
        let changes = breaking_changes(
            &released,
            &edited(|p| p.replace("  optional string phone = 6;\n", "  reserved 6;\n")),
        );
        assert_eq!(
            changes,
            ["field users.v1.User.phone (6) was removed without `reserved \"phone\";`"]
        );
    }

    #[test]
    fn the_released_field_that_was_dropped_stays_reserved() {
        let baseline = compile(&proto_dir().join("baseline"));
        let current = edited(|p| p.replace("  reserved 8;\n", ""));
        assert_eq!(
            breaking_changes(&baseline, &current),
            ["field users.v1.User.display_name (8) was removed without `reserved 8;`"]
        );
    }
}
