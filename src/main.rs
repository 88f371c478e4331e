//! The `rollsim` command line: parse, call the library, map errors to exit codes
//! (0 ok, 1 failure while running, 2 bad input or usage, 3 an `[[expect]]` missed).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    rollsim::mem::huge_page_heap();
    rollsim::mem::keep_freed_memory();
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            rollsim::commands::print_error(&e);
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}
