//! Running a loop (a relay, a consumer) beside a piece of work, and stopping the loop when the
//! work is done: how the tour and the tests drive a scenario while the loops run.

use tokio::sync::oneshot;

/// Runs `background`, given a signal that fires when `work` is done, beside `work`; returns
/// both outputs once both have finished.
pub async fn alongside<B, W>(
    background: impl FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> B,
    work: W,
) -> (B::Output, W::Output)
where
    B: Future,
    W: Future,
{
    let (done, stop) = oneshot::channel::<()>();
    let work = async {
        let output = work.await;
        let _ = done.send(());
        output
    };
    let stop = Box::pin(async {
        let _ = stop.await;
    });
    tokio::join!(background(stop), work)
}
