//! rvsadm: the ipvsadm-compatible command line for rvsd (also works as `ipvsadm` through a
//! link of that name).

use std::io::{self, BufWriter, Write};

use rvs_api::{Transport, UnixTransport, socket_path};
use rvsadm::{Context, SystemNames, run};

fn main() {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let socket = socket_path();
    let mut connect =
        || -> io::Result<Box<dyn Transport>> { Ok(Box::new(UnixTransport::connect(&socket)?)) };
    let names = SystemNames::new();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut err = io::stderr();
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let code = {
        let mut ctx = Context::new(
            &mut out,
            &mut err,
            &mut input,
            &names,
            socket.display().to_string(),
            &mut connect,
        );
        run(&mut ctx, &argv)
    };
    let _ = out.flush();
    drop(out);
    std::process::exit(code);
}
