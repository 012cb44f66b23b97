//! From files to a validated [`Config`]: read, build the tree, type each block, validate.

use std::collections::HashSet;
use std::path::Path;

use crate::cx::{Cx, TOP_LEVEL};
use crate::diag::{Diagnostic, Diagnostics, KaClass, Severity, Span};
use crate::model::*;
use crate::reader::{self, Reader};
use crate::source::SourceFile;
use crate::{build_global, build_lvs, build_vrrp, tree, validate_lvs, validate_vrrp};

/// What the caller knows about the host that keepalived would look up itself.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The config-id matched by `@ID` lines (keepalived `-i`; default: short host name).
    pub config_id: Option<String>,
    /// Interfaces that exist; `None` skips the existence check.
    pub interfaces: Option<HashSet<String>>,
}

impl CheckOptions {
    /// Options from this host: short host name and the interfaces in /sys/class/net.
    pub fn from_system() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().split('.').next().unwrap_or("").to_string())
            .filter(|h| !h.is_empty());
        let interfaces = std::fs::read_dir("/sys/class/net").ok().map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        });
        CheckOptions {
            config_id: host,
            interfaces,
        }
    }
}

/// The result of parsing: configuration, diagnostics and the files read.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The typed configuration (best effort when there are errors).
    pub config: Config,
    /// Everything found, in source order (validation findings after parse findings).
    pub diagnostics: Vec<Diagnostic>,
    /// The files that took part, main file first.
    pub sources: Vec<SourceFile>,
}

impl Parsed {
    /// True if some diagnostic stops rvs-keepalived from starting.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The exit code `keepalived -t` would give (0 ok, 4 cannot run, 5 errors, 6 script security).
    pub fn exit_code(&self) -> i32 {
        crate::diag::exit_code(&self.diagnostics)
    }

    /// All diagnostics rendered, one block per diagnostic, separated by newlines.
    pub fn render(&self) -> String {
        self.diagnostics.iter().map(|d| format!("{d}\n")).collect()
    }
}

/// Parses the file at `path` (and what it includes).
pub fn parse_file(path: &Path, opts: &CheckOptions) -> Parsed {
    match reader::load_main(path) {
        Ok(main) => parse_source(main, opts),
        Err(e) => {
            let mut d = Diagnostic::new(
                Severity::Error,
                KaClass::Fatal,
                format!("Failed to open configuration file: {e}"),
            );
            d.span = Some(Span {
                file: path.to_path_buf(),
                ..Span::default()
            });
            Parsed {
                config: Config::default(),
                diagnostics: vec![d],
                sources: Vec::new(),
            }
        }
    }
}

/// Parses text as if it were the file `name` (includes resolve relative to `name`'s directory).
pub fn parse_str(name: &str, text: &str, opts: &CheckOptions) -> Parsed {
    parse_source(reader::main_from_text(name, text), opts)
}

fn parse_source(main: SourceFile, opts: &CheckOptions) -> Parsed {
    let mut diags = Diagnostics::default();
    let mut tree_diags = Vec::new();
    let (stmts, sources) = {
        let mut rd = Reader::new(main, opts.config_id.clone(), &mut diags);
        let stmts = tree::build(&mut rd, &mut tree_diags);
        (stmts, std::mem::take(&mut rd.sources))
    };
    for (sev, class, loc, msg, help) in tree_diags {
        tree::report(&mut diags, &sources, sev, class, loc, msg, help);
    }
    let mut cx = Cx {
        sources: &sources,
        diags: &mut diags,
    };
    let mut cfg = Config::default();
    // global_defs first: instance defaults come from it wherever it appears.
    for st in stmts.iter().filter(|s| s.name() == "global_defs") {
        build_global::build(&mut cx, st, &mut cfg.global);
    }
    let mut insts = Vec::new();
    let mut vss = Vec::new();
    for st in &stmts {
        match st.name() {
            "global_defs" => {}
            "vrrp_instance" => insts.push(build_vrrp::instance(&mut cx, st)),
            "vrrp_script" => cfg.vrrp_scripts.push(build_vrrp::script(&mut cx, st)),
            "vrrp_sync_group" => cfg.sync_groups.push(build_vrrp::sync_group(&mut cx, st)),
            "virtual_server" => vss.extend(build_lvs::virtual_server(&mut cx, st)),
            "virtual_server_group" => cfg
                .virtual_server_groups
                .extend(build_lvs::group(&mut cx, st)),
            n if TOP_LEVEL.contains(&n) => cx.note(
                st.loc,
                format!("'{n}' is accepted but not used by rvs-keepalived"),
            ),
            _ => cx.unknown(st, "", None),
        }
    }
    cfg.vrrp_instances = validate_vrrp::finish(
        &mut cx,
        insts,
        &cfg.global,
        &cfg.vrrp_scripts,
        &mut cfg.sync_groups,
        opts.interfaces.as_ref(),
    );
    cfg.virtual_servers = validate_lvs::finish(&mut cx, vss, &cfg.virtual_server_groups);
    if !cfg.global.enable_script_security {
        let security = |what: &str| {
            Diagnostic::new(
                Severity::Warning,
                KaClass::Security,
                format!("SECURITY VIOLATION - {what}scripts are being executed but script_security not enabled."),
            )
            .with_help("add 'enable_script_security' (and 'script_user USER') to global_defs")
        };
        if validate_vrrp::uses_scripts(&cfg.vrrp_instances, &cfg.vrrp_scripts, &cfg.sync_groups) {
            diags.push(security(""));
        }
        if validate_lvs::uses_scripts(&cfg.virtual_servers) {
            diags.push(security("check "));
        }
    }
    Parsed {
        config: cfg,
        diagnostics: diags.list,
        sources,
    }
}
