//! Temporary: measure CPU used by an idle data plane.
use rvs_core::{DropReason, Instant, Verdict};
use rvs_dataplane::*;
struct P;
impl PacketProcessor for P {
    fn process(&mut self, _: &mut [u8], _: usize, _: usize, _: Instant) -> Verdict { Verdict::Drop(DropReason::NoService) }
    fn tick(&mut self, _: Instant) {}
}
fn main() {
    let cfg = DataplaneConfig { interfaces: vec!["d0".into()], workers: Some(1), ..Default::default() };
    let dp = Dataplane::start(cfg, |_, _| P).unwrap();
    let t0 = std::time::Instant::now();
    let mut ru0: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru0) };
    std::thread::sleep(std::time::Duration::from_secs(5));
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let cpu = |r: &libc::rusage| r.ru_utime.tv_sec as f64 + r.ru_utime.tv_usec as f64 / 1e6 + r.ru_stime.tv_sec as f64 + r.ru_stime.tv_usec as f64 / 1e6;
    println!("idle: {:.4} s CPU over {:.1} s wall; attach {:?}; stats ticks {}", cpu(&ru) - cpu(&ru0), t0.elapsed().as_secs_f64(), dp.attachments(), dp.stats().total.ticks);
}
