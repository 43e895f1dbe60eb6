//! `workbook doctor`: for each service, where it would come from, whether it answers, and (for the
//! databases) the durability settings it runs with, which decide what a test run costs there.
//!
//! The same resolution the tests use (`harness::endpoint`), so what the doctor says is what a test
//! would get.

use harness::{ServiceKind, provision};

/// Prints one block per service; returns how many did not answer.
pub async fn run() -> usize {
    let mut missing = 0;
    for kind in ServiceKind::ALL {
        println!("{kind}");
        println!("  source:  {}", provision::planned_source(kind));
        match harness::endpoint(kind).await {
            Ok(endpoint) => match harness::probe::probe(kind, &endpoint.url).await {
                Ok(answer) => {
                    println!(
                        "  answers: {answer}\n  from:    {} ({})",
                        harness::redact::masked(&endpoint.url),
                        endpoint.origin
                    );
                    match harness::probe::durability(kind, &endpoint.url).await {
                        Ok(Some(settings)) => println!("  runs:    {settings}"),
                        Ok(None) => {}
                        Err(error) => println!("  runs:    (could not read its settings: {error})"),
                    }
                }
                Err(error) => {
                    missing += 1;
                    println!("  FAILS:   {error}");
                }
            },
            Err(error) => {
                missing += 1;
                println!("  FAILS:   {}", error.to_string().replace('\n', "\n           "));
            }
        }
    }
    println!("tansu (dedicated Kafka brokers for fault tests)");
    match harness::kafka::tansu_binary() {
        Some(path) => println!("  found:   {}", path.display()),
        None => println!("  missing: `scripts/local-services up` installs it; without it, fault tests need Docker"),
    }
    missing
}
