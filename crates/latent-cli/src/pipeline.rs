//! An ordered parallel map over a stream: one thread produces items, every thread of the rayon
//! pool maps them as they arrive, and the caller's thread consumes the results in input order.
//!
//! Unlike mapping whole batches (which waits for a batch's slowest item and leaves the pool
//! idle while results are written), workers never wait for one another: reading, mapping and
//! writing overlap. A fixed number of credits bounds the items in flight (read ahead, being
//! mapped, or done and waiting for their turn), so memory stays bounded however long the
//! stream, and one slow item cannot let the others pile up.

use anyhow::Result;
use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// Items in flight per pool thread.
const IN_FLIGHT_PER_THREAD: usize = 2;

/// Maps every item of `produce` (called on a thread of its own until it returns `None` or an
/// error) with `map` on the rayon pool, and hands the results to `consume` in input order,
/// skipping `None`s. The first error in input order (from `produce`, `map` or `consume`) stops
/// everything and is returned; nothing after it is consumed.
pub fn ordered_map<P: Send, T: Send>(
    mut produce: impl FnMut() -> Option<Result<P>> + Send,
    map: impl Fn(P) -> Result<Option<T>> + Sync,
    mut consume: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let workers = rayon::current_num_threads().max(1);
    let in_flight = IN_FLIGHT_PER_THREAD * workers;
    let (work_tx, work_rx) = sync_channel::<(u64, Result<P>)>(in_flight);
    let (done_tx, done_rx) = sync_channel::<(u64, Result<Option<T>>)>(in_flight);
    let (credit_tx, credit_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        credit_tx.try_send(()).ok(); // the channel holds exactly `in_flight` credits
    }
    let work_rx = Mutex::new(work_rx);
    let (work_rx, map) = (&work_rx, &map);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut seq = 0;
            // One item per credit; the consumer gives a credit back per item consumed.
            while credit_rx.recv().is_ok() {
                let Some(item) = produce() else { break };
                let failed = item.is_err();
                if work_tx.send((seq, item)).is_err() || failed {
                    break; // the consumer stopped, or the input is bad (reported in order)
                }
                seq += 1;
            }
        });
        scope.spawn(move || {
            rayon::scope(|s| {
                for _ in 0..workers {
                    let done_tx = done_tx.clone();
                    s.spawn(move |_| work(work_rx, map, &done_tx));
                }
                drop(done_tx);
            })
        });
        let result = (|| -> Result<()> {
            let mut waiting = BTreeMap::new();
            let mut next = 0u64;
            for (seq, out) in &done_rx {
                waiting.insert(seq, out);
                while let Some(out) = waiting.remove(&next) {
                    next += 1;
                    if let Some(value) = out? {
                        consume(value)?;
                    }
                    credit_tx.send(()).ok();
                }
            }
            Ok(())
        })();
        // On an early return the producer and the workers see closed channels and stop.
        drop(credit_tx);
        drop(done_rx);
        result
    })
}

/// One worker: maps items until the producer is done or the consumer has stopped.
fn work<P, T>(
    items: &Mutex<Receiver<(u64, Result<P>)>>,
    map: &(impl Fn(P) -> Result<Option<T>> + Sync),
    done: &SyncSender<(u64, Result<Option<T>>)>,
) {
    loop {
        let next = match items.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return, // another worker panicked; the scope re-raises it
        };
        let Ok((seq, item)) = next else { return };
        if done.send((seq, item.and_then(map))).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_input_order_whatever_each_item_costs() -> Result<()> {
        let mut items = 0..500u64;
        let mut seen = Vec::new();
        ordered_map(
            || items.next().map(Ok),
            |i| {
                // Uneven work, so that items finish out of order.
                std::thread::sleep(std::time::Duration::from_micros((i * 7919) % 300));
                Ok((i % 5 != 0).then_some(i * 2))
            },
            |v| {
                seen.push(v);
                Ok(())
            },
        )?;
        let want: Vec<u64> = (0..500).filter(|i| i % 5 != 0).map(|i| i * 2).collect();
        assert_eq!(seen, want);
        Ok(())
    }

    #[test]
    fn the_first_error_in_input_order_stops_everything() {
        for failing in [0u64, 3, 199] {
            let mut items = 0..10_000u64;
            let mut consumed = 0u64;
            let err = ordered_map(
                || items.next().map(Ok),
                |i| if i == failing { anyhow::bail!("item {i}") } else { Ok(Some(i)) },
                |v| {
                    assert_eq!(v, consumed, "in order, nothing after the error");
                    consumed += 1;
                    Ok(())
                },
            );
            assert_eq!(err.map_err(|e| e.to_string()), Err(format!("item {failing}")));
            assert_eq!(consumed, failing);
            // An error from the producer, and one from the consumer.
            let mut n = 0;
            let err = ordered_map(
                || {
                    n += 1;
                    Some(if n > 50 { Err(anyhow::anyhow!("bad input")) } else { Ok(n) })
                },
                |i| Ok(Some(i)),
                |_| Ok(()),
            );
            assert!(err.is_err());
            let mut items = 0..10_000u64;
            let err = ordered_map(
                || items.next().map(Ok),
                |i| Ok(Some(i)),
                |v| {
                    if v == 77 {
                        anyhow::bail!("disk full")
                    }
                    Ok(())
                },
            );
            assert_eq!(err.map_err(|e| e.to_string()), Err("disk full".to_string()));
        }
    }
}
