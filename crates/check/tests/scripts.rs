//! Script vetting (enable_script_security, script_user) and running as another user.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use rvs_check::script::{self, Refusal, RunAs, ScriptEnv, ScriptExit};
use rvs_kaconf::{GlobalDefs, Script, ScriptUser};

fn env(security: bool) -> ScriptEnv {
    ScriptEnv {
        security,
        default_user: RunAs { uid: 0, gid: 0 },
    }
}

fn script(cmd: &str) -> Script {
    Script {
        command: cmd.into(),
        argv: cmd.split(' ').map(str::to_string).collect(),
        user: None,
        group: None,
    }
}

fn write(path: &Path, body: &str, mode: u32) -> String {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.display().to_string()
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn world_writable_script_refused_only_with_security() {
    // Ownership rules need root-owned files.
    if !rvs_testkit::root_or_skip("world_writable_script_refused_only_with_security") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir.path().join("ww.sh"), "exit 0", 0o777);
    let s = script(&p);
    assert_eq!(
        env(true).prepare(&s, None),
        Err(Refusal::Insecure(p.clone()))
    );
    let ok = env(false).prepare(&s, None).unwrap();
    assert_eq!(ok.insecure, Some(p));
    let safe = write(&dir.path().join("safe.sh"), "exit 0", 0o755);
    assert_eq!(
        env(true).prepare(&script(&safe), None).unwrap().insecure,
        None
    );
}

#[test]
fn writable_directory_makes_script_insecure() {
    // Ownership rules need root-owned files.
    if !rvs_testkit::root_or_skip("writable_directory_makes_script_insecure") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("open");
    std::fs::create_dir(&sub).unwrap();
    chmod(&sub, 0o777);
    let p = write(&sub.join("s.sh"), "exit 0", 0o755);
    assert_eq!(
        env(true).prepare(&script(&p), None),
        Err(Refusal::Insecure(sub.display().to_string()))
    );
    // The sticky bit (like /tmp) makes a world-writable directory acceptable.
    chmod(&sub, 0o1777);
    assert!(env(true).prepare(&script(&p), None).is_ok());
    // Group-writable with group root is fine too.
    chmod(&sub, 0o775);
    assert!(env(true).prepare(&script(&p), None).is_ok());
}

#[test]
fn missing_not_executable_and_path_search() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope").display().to_string();
    assert!(matches!(
        env(true).prepare(&script(&missing), None),
        Err(Refusal::NotFound(_))
    ));
    let p = write(&dir.path().join("noexec.sh"), "exit 0", 0o644);
    assert!(matches!(
        env(false).prepare(&script(&p), None),
        Err(Refusal::NotExecutable(_))
    ));
    let t = env(false).prepare(&script("true"), None).unwrap();
    assert!(t.program.is_absolute() && t.program.ends_with("true"));
    assert!(matches!(
        env(false).prepare(&script("no-such-command-rvs"), None),
        Err(Refusal::NotFound(_))
    ));
}

#[test]
fn unknown_users_refused() {
    let mut s = script("/bin/true");
    s.user = Some("no-such-user-rvs".into());
    assert_eq!(
        env(false).prepare(&s, None),
        Err(Refusal::UnknownUser("no-such-user-rvs".into()))
    );
    let g = GlobalDefs {
        script_user: Some(ScriptUser {
            user: "no-such-user-rvs".into(),
            group: None,
        }),
        ..GlobalDefs::default()
    };
    assert!(ScriptEnv::from_global(&g).is_err());
    let g = GlobalDefs {
        script_user: Some(ScriptUser {
            user: "nobody".into(),
            group: None,
        }),
        enable_script_security: true,
        ..GlobalDefs::default()
    };
    let e = ScriptEnv::from_global(&g).unwrap();
    assert!(e.security);
    assert_eq!(e.default_user.uid, 65534);
}

#[tokio::test]
async fn runs_as_script_user() {
    // Switching user needs root.
    if !rvs_testkit::root_or_skip("runs_as_script_user") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    let p = write(
        &dir.path().join("whoami.sh"),
        "[ \"$(id -u)\" = 65534 ]",
        0o755,
    );
    let mut s = script(&p);
    s.user = Some("nobody".into());
    // Not run with root privileges, so the path is not inspected even with security on.
    let prepared = env(true).prepare(&s, None).unwrap();
    assert_eq!(prepared.run_as.uid, 65534);
    assert_eq!(
        script::run(&prepared, Duration::from_secs(10)).await,
        ScriptExit::Exited(0)
    );
    let as_root = env(true).prepare(&script(&p), None).unwrap();
    assert_eq!(
        script::run(&as_root, Duration::from_secs(10)).await,
        ScriptExit::Exited(1)
    );
    // MISC_CHECK `user` overrides the script's own.
    let over = ("nobody".to_string(), None);
    assert_eq!(
        env(true)
            .prepare(&script(&p), Some(&over))
            .unwrap()
            .run_as
            .uid,
        65534
    );
}
