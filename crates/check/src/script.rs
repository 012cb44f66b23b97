//! Scripts (MISC_CHECK, notify_up/down, quorum_up/down): who runs them, whether they may
//! run at all, and running them with a timeout.
//!
//! keepalived's rules (`check_script_secure`): a bare name is searched in PATH; the script
//! must be executable by the user it runs as; when it runs with root privileges (uid or gid 0,
//! or a setuid/setgid-root file) every element of its path, and of the resolved path if it is
//! a symlink, must be owned by root and not writable by a non-root group or by others
//! (directories with the sticky bit excepted). With `enable_script_security` such a script is
//! refused; without it, it runs and a warning is given.
//! The user is the script's own (`"cmd" USER [GROUP]` / MISC_CHECK `user`), else global
//! `script_user`, else `keepalived_script` if that user exists, else root.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Group, Pid, User};
use rvs_kaconf::{GlobalDefs, Script};

/// A user and group to run scripts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// Global script settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptEnv {
    /// `enable_script_security`.
    pub security: bool,
    /// Default user (`script_user`, else `keepalived_script`, else root).
    pub default_user: RunAs,
}

/// Why a script will not be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Empty command line.
    Empty,
    /// The user or group does not exist.
    UnknownUser(String),
    /// Not found (in PATH or at its path).
    NotFound(String),
    /// Not executable by the user it would run as.
    NotExecutable(String),
    /// Unsafe permissions with `enable_script_security` set.
    Insecure(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Empty => write!(f, "empty script command"),
            Refusal::UnknownUser(u) => write!(f, "unknown script user or group '{u}' - disabling"),
            Refusal::NotFound(s) => write!(f, "cannot find script {s} - disabling"),
            Refusal::NotExecutable(s) => {
                write!(f, "script '{s}' is not executable for its user - disabling")
            }
            Refusal::Insecure(p) => {
                write!(f, "unsafe permissions found for script '{p}' - disabling")
            }
        }
    }
}

/// A script cleared to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedScript {
    /// The executable to run (PATH resolved).
    pub program: PathBuf,
    /// Arguments after argv[0].
    pub args: Vec<String>,
    /// Who runs it.
    pub run_as: RunAs,
    /// Set when the permissions are unsafe but `enable_script_security` is off.
    pub insecure: Option<String>,
}

fn lookup_user(name: &str, group: Option<&str>) -> Result<RunAs, Refusal> {
    let u = User::from_name(name)
        .ok()
        .flatten()
        .ok_or_else(|| Refusal::UnknownUser(name.to_string()))?;
    let gid = match group {
        Some(g) => {
            Group::from_name(g)
                .ok()
                .flatten()
                .ok_or_else(|| Refusal::UnknownUser(g.to_string()))?
                .gid
        }
        None => u.gid,
    };
    Ok(RunAs {
        uid: u.uid.as_raw(),
        gid: gid.as_raw(),
    })
}

impl ScriptEnv {
    /// From `global_defs`; an unknown `script_user` gives a refusal for every script.
    pub fn from_global(g: &GlobalDefs) -> Result<ScriptEnv, Refusal> {
        let default_user = match &g.script_user {
            Some(su) => lookup_user(&su.user, su.group.as_deref())?,
            None => lookup_user("keepalived_script", None).unwrap_or(RunAs { uid: 0, gid: 0 }),
        };
        Ok(ScriptEnv {
            security: g.enable_script_security,
            default_user,
        })
    }

    /// Vets `script` (user override from MISC_CHECK `user`, if any).
    pub fn prepare(
        &self,
        script: &Script,
        user: Option<&(String, Option<String>)>,
    ) -> Result<PreparedScript, Refusal> {
        let run_as = match (user, &script.user) {
            (Some((u, g)), _) => lookup_user(u, g.as_deref())?,
            (None, Some(u)) => lookup_user(u, script.group.as_deref())?,
            (None, None) => self.default_user.clone(),
        };
        let argv0 = script.argv.first().ok_or(Refusal::Empty)?;
        let program = if argv0.contains('/') {
            PathBuf::from(argv0)
        } else {
            find_in_path(argv0).ok_or_else(|| Refusal::NotFound(argv0.clone()))?
        };
        let real = std::fs::canonicalize(&program)
            .map_err(|_| Refusal::NotFound(program.display().to_string()))?;
        let meta = std::fs::metadata(&real)
            .map_err(|_| Refusal::NotFound(program.display().to_string()))?;
        if !meta.is_file() || !executable_by(&meta, &run_as) {
            return Err(Refusal::NotExecutable(program.display().to_string()));
        }
        let mode = meta.mode();
        let privileged = run_as.uid == 0
            || run_as.gid == 0
            || (meta.uid() == 0 && mode & 0o4100 == 0o4100)
            || (meta.gid() == 0 && mode & 0o2010 == 0o2010);
        let mut insecure = None;
        if privileged {
            let mut bad = path_insecurity(&program);
            if bad.is_none() && real != program {
                bad = path_insecurity(&real);
            }
            if let Some(p) = bad {
                if self.security {
                    return Err(Refusal::Insecure(p));
                }
                tracing::warn!(script = %program.display(), element = %p, "unsafe permissions found for script");
                insecure = Some(p);
            }
        }
        Ok(PreparedScript {
            program,
            args: script.argv[1..].to_vec(),
            run_as,
            insecure,
        })
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn executable_by(meta: &std::fs::Metadata, who: &RunAs) -> bool {
    let mode = meta.permissions().mode();
    if who.uid == 0 {
        mode & 0o111 != 0
    } else if meta.uid() == who.uid {
        mode & 0o100 != 0
    } else if meta.gid() == who.gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// keepalived's `check_security`: the first element of `path` (from `/` down, not following
/// symlinks) that is not owned by root or is writable by a non-root group or by others;
/// None when the path is safe.
pub fn path_insecurity(path: &Path) -> Option<String> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut cur = PathBuf::new();
    let comps: Vec<_> = abs.components().collect();
    for (i, c) in comps.iter().enumerate() {
        cur.push(c);
        let last = i + 1 == comps.len();
        let Ok(m) = std::fs::symlink_metadata(&cur) else {
            return Some(cur.display().to_string());
        };
        let ft = m.file_type();
        if (!last && !ft.is_dir()) || (last && !ft.is_file() && !ft.is_symlink()) {
            return Some(cur.display().to_string());
        }
        let mode = m.mode();
        let sticky_dir = ft.is_dir() && mode & 0o1000 != 0;
        let checked = (ft.is_dir() && !sticky_dir) || ft.is_file();
        let writable = (m.gid() != 0 && mode & 0o020 != 0) || mode & 0o002 != 0;
        if m.uid() != 0 || (checked && writable) {
            return Some(cur.display().to_string());
        }
    }
    None
}

/// How a script run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptExit {
    /// Exited with this status.
    Exited(u8),
    /// Killed by a signal, or by us after the timeout.
    Killed,
    /// Could not be started.
    SpawnFailed,
}

/// Runs `s` in its own process group; after `timeout` the group gets SIGTERM, and SIGKILL
/// 2 s later if still there (keepalived's MISC_CHECK and stop-time notify handling).
pub async fn run(s: &PreparedScript, timeout: Duration) -> ScriptExit {
    let mut cmd = tokio::process::Command::new(&s.program);
    cmd.args(&s.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    if nix::unistd::geteuid().as_raw() == 0 {
        cmd.uid(s.run_as.uid).gid(s.run_as.gid);
    }
    let Ok(mut child) = cmd.spawn() else {
        return ScriptExit::SpawnFailed;
    };
    let pgid = child.id().map(|p| Pid::from_raw(p as i32));
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(r) => r.ok(),
        Err(_) => {
            // Timed out: a failure whatever the script does on SIGTERM.
            if let Some(g) = pgid {
                let _ = killpg(g, Signal::SIGTERM);
            }
            if tokio::time::timeout(Duration::from_secs(2), child.wait())
                .await
                .is_err()
            {
                if let Some(g) = pgid {
                    let _ = killpg(g, Signal::SIGKILL);
                }
                let _ = child.wait().await;
            }
            None
        }
    };
    match status.and_then(|st| st.code()) {
        Some(c) => ScriptExit::Exited(c as u8),
        None => ScriptExit::Killed,
    }
}
