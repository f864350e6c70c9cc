//! Playbook commands that hand their arguments to an interpreter (a shell, `python -c`,
//! `perl -e`, `busybox sh`, or any of these behind `env`, `sudo`, `timeout`…). Without a
//! shell, a templated value stays one argument and cannot become code; an interpreter can
//! turn it into code (`sh -c "tar czf /tmp/x {path}"` with `path=/var/log; id`). So a playbook
//! that runs an interpreter may not use a value from the hub unless the site opts in with
//! `allow_shell_templates = true`, and even then only as a positional argument after the
//! fixed script (`sh -c 'fw block "$1"' fw {indicator}`), never inside the script or as the
//! value of an option. Pure: the decision is made on the configured text.
//!
//! The list is a safety net, not a sandbox: a site that allow-lists a program decides what it
//! does with its arguments.

use std::path::Path;

/// Programs that run code given as text (by base name, version suffixes ignored).
const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "mksh",
    "pdksh",
    "ash",
    "csh",
    "tcsh",
    "fish",
    "rc",
    "busybox",
    "toybox",
    "python",
    "pypy",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "deno",
    "bun",
    "php",
    "lua",
    "luajit",
    "tclsh",
    "wish",
    "expect",
    "awk",
    "gawk",
    "mawk",
    "nawk",
    "sed",
    "pwsh",
    "powershell",
    "osascript",
    "rscript",
    "julia",
    "guile",
    "racket",
    "jshell",
    "groovy",
];

/// Programs that run another program named in their arguments.
const WRAPPERS: &[&str] = &[
    "env",
    "sudo",
    "doas",
    "su",
    "runuser",
    "nice",
    "nohup",
    "timeout",
    "setsid",
    "stdbuf",
    "ionice",
    "chrt",
    "taskset",
    "chroot",
    "unshare",
    "nsenter",
    "flock",
    "systemd-run",
    "xargs",
    "watch",
    "script",
    "time",
    "ssh",
    "firejail",
    "bwrap",
];

/// The base name without a version suffix: `/usr/bin/python3.12` → `python`.
fn base(program: &str) -> String {
    let name = Path::new(program)
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().to_ascii_lowercase());
    name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
        .to_string()
}

fn is_interpreter(program: &str) -> bool {
    INTERPRETERS.contains(&base(program).as_str())
}

/// Where the interpreter is in `argv`: the program itself, or a fixed argument of a wrapper
/// (`/usr/bin/env bash -c …`, `sudo -u x /bin/sh …`).
pub fn interpreter_at(argv: &[String], templated: &[bool]) -> Option<usize> {
    let program = argv.first()?;
    if is_interpreter(program) {
        return Some(0);
    }
    if !WRAPPERS.contains(&base(program).as_str()) {
        return None;
    }
    (1..argv.len()).find(|&i| !templated[i] && is_interpreter(&argv[i]))
}

/// Why this command line may not carry remote values, if it may not. `templated[i]` says
/// whether argument `i` uses a value from the hub.
pub fn check(
    argv: &[String],
    templated: &[bool],
    allow_shell_templates: bool,
) -> Result<(), String> {
    if !templated.iter().any(|&t| t) {
        return Ok(());
    }
    let program = argv.first().map_or("", String::as_str);
    let at = interpreter_at(argv, templated);
    if let Some(at) = at
        && !allow_shell_templates
    {
        return Err(format!(
            "{} is an interpreter, and a templated argument could become code (a hub parameter `x; id` would run `id`); run a fixed program or script directly (an executable with its own #! line), or set allow_shell_templates = true for this playbook and pass values only as positional arguments after the script (docs/SECURITY.md)",
            argv[at]
        ));
    }
    if WRAPPERS.contains(&base(program).as_str()) {
        // The program a wrapper runs must be fixed: it comes before any templated argument.
        let names_program =
            |i: &usize| !templated[*i] && (argv[*i].starts_with('/') || is_interpreter(&argv[*i]));
        let first_program = (1..argv.len()).find(names_program);
        let first_template = (1..argv.len()).find(|&i| templated[i]);
        if first_template.is_some_and(|t| first_program.is_none_or(|p| t < p)) {
            return Err(format!(
                "{program} runs the program named in its arguments; a templated argument may only come after that program's fixed absolute path"
            ));
        }
    }
    let Some(at) = at else {
        return Ok(());
    };
    let interpreter = &argv[at];
    // Opted in: values only as positional arguments after the fixed script or code.
    let mut script_seen = false;
    for i in at + 1..argv.len() {
        let arg = &argv[i];
        if templated[i] {
            let after_option = argv[i - 1].starts_with('-') && i - 1 > at;
            if !script_seen || after_option {
                return Err(format!(
                    "{interpreter}: the templated argument {arg:?} could be read as code or as an option's value; pass values only as positional arguments after the fixed script (e.g. [\"{interpreter}\", \"-c\", \"tool \\\"$1\\\"\", \"tool\", \"{{name}}\"])"
                ));
            }
        } else if !arg.starts_with('-') {
            script_seen = true;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> (Vec<String>, Vec<bool>) {
        let argv: Vec<String> = args.iter().map(ToString::to_string).collect();
        let templated = argv.iter().map(|a| a.contains('{')).collect();
        (argv, templated)
    }

    #[test]
    fn interpreters_with_templates_need_the_opt_in() {
        for args in [
            &["/bin/sh", "-c", "tar czf /tmp/x {path}"][..],
            &["/bin/bash", "/opt/block.sh", "{ip}"],
            &["/usr/bin/python3.12", "-c", "import os", "{x}"],
            &["/usr/bin/perl", "-e", "print @ARGV", "{x}"],
            &["/bin/busybox", "sh", "-c", "echo $1", "x", "{x}"],
            &["/usr/bin/env", "bash", "-c", "echo $1", "x", "{x}"],
            &[
                "/usr/bin/sudo",
                "-u",
                "fw",
                "/bin/dash",
                "-c",
                "echo $1",
                "x",
                "{x}",
            ],
        ] {
            let (argv, templated) = argv(args);
            let error = check(&argv, &templated, false).expect_err("refused");
            assert!(error.contains("allow_shell_templates"), "{error}");
        }
        let (plain, templated) = argv(&["/usr/sbin/fw", "block", "{ip}"]);
        assert!(check(&plain, &templated, false).is_ok());
        let (fixed, templated) = argv(&["/bin/sh", "-c", "echo fixed"]);
        assert!(check(&fixed, &templated, false).is_ok());
    }

    #[test]
    fn with_the_opt_in_values_are_positional_arguments_only() {
        let (ok, templated) = argv(&["/bin/sh", "-c", "echo \"$1\" >> \"$0\"", "/tmp/log", "{x}"]);
        assert!(check(&ok, &templated, true).is_ok());
        for args in [
            &["/bin/sh", "-c", "tar czf /tmp/x {path}"][..],
            &["/bin/sh", "-c", "{script}"],
            &["/usr/bin/python3", "-W", "ignore", "-c", "{code}"],
            &["/bin/sh", "{script}"],
        ] {
            let (argv, templated) = argv(args);
            assert!(check(&argv, &templated, true).is_err(), "{args:?}");
        }
    }

    #[test]
    fn wrappers_must_name_a_fixed_program_first() {
        let (ok, templated) = argv(&["/usr/bin/timeout", "10", "/usr/sbin/fw", "{ip}"]);
        assert!(check(&ok, &templated, false).is_ok());
        let (bad, templated) = argv(&["/usr/bin/sudo", "{program}", "x"]);
        assert!(check(&bad, &templated, true).is_err());
    }
}
