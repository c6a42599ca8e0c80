//! The `faultline` binary: parses arguments and hands over to `faultline::cli`.

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    std::process::ExitCode::from(faultline::cli::run(args, &mut stdout, &mut stderr))
}
