//! `~SEQ`/`~SEQx`/`~LST` loop lines expand exactly as keepalived 2.2.7 expands them.
//!
//! Each case is a config whose loops generate unknown top-level keywords: keepalived
//! names each one ("(Line N) Unknown keyword 'k_3'"), which shows what it expanded.
//! A refused loop shows up as "Invalid ~SEQ/~LST specification" on its line. The
//! expected lists below were taken from keepalived; `recorded_expansions_match_ours`
//! holds us to them everywhere, and `keepalived_agrees` re-runs the real keepalived
//! on every case when it is installed (it must be when CI=true).

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use rvs_kaconf::diag::Diagnostics;
use rvs_kaconf::reader::{Reader, SegKind, main_from_text};
use rvs_kaconf::{CheckOptions, Severity, parse_str};

/// A loop config and what keepalived made of it: `LINE:KEYWORD` per generated line,
/// `LINE:ERROR` for a loop keepalived refused.
struct Case {
    name: &'static str,
    conf: &'static str,
    want: &'static str,
}

const ERR: &str = "ERROR";

const CASES: &[Case] = &[
    Case {
        name: "seq_forms",
        conf: "~SEQ(i, 1, 2, 8) a_$i\n\
               ~SEQ(i, 3, 1) b_$i\n\
               ~SEQ(i, 3) c_$i\n\
               ~SEQ(i, 0) z_$i\n\
               ~SEQ(i, -2) y_$i\n\
               ~SEQ(i, 5, -2, -1) d_${i}\n\
               ~SEQ(i,4,4) e_$i\n\
               ~SEQ(i, 010, 0x2, 0xc) o_$i\n",
        want: "1:a_1 1:a_3 1:a_5 1:a_7 \
               2:b_3 2:b_2 2:b_1 \
               3:c_1 3:c_2 3:c_3 \
               4:z_1 4:z_0 \
               5:y_-1 5:y_-2 \
               6:d_5 6:d_3 6:d_1 6:d_-1 \
               7:e_4 \
               8:o_8 8:o_10 8:o_12",
    },
    Case {
        name: "seq_hex",
        conf: "~SEQx(i, 8, 3, 0x1f) h_$i\n~SEQx (n, 254, 257) x_${n}_y\n",
        want: "1:h_8 1:h_b 1:h_e 1:h_11 1:h_14 1:h_17 1:h_1a 1:h_1d \
               2:x_fe_y 2:x_ff_y 2:x_100_y 2:x_101_y",
    },
    Case {
        name: "lst_forms",
        conf: "~LST(v, web, db, cache) l_$v\n\
               ~LST({a,b}, {1,2}, {3}, 5) m_${a}_${b}_\n\
               ~LST( { a , b } , { 1 , 2 } ) s_${a}_${b}\n\
               ~LST(v, {}, , x) e_${v}_\n\
               ~LST(v,) f_${v}_\n\
               ~LST(v, only)\n\
               g_$v\n",
        want: "1:l_web 1:l_db 1:l_cache \
               2:m_1_2_ 2:m_3__ 2:m_5__ \
               3:s_1_2 \
               4:e__ 4:e__ 4:e_x_ \
               5:f__ \
               7:g_only",
    },
    Case {
        name: "nesting",
        conf: "~SEQ(i,1,2) ~SEQ(j,$i,3) t_${i}_$j\n\
               ~LST(p, x, y) ~SEQ(n, 2) n_${p}$n\n\
               ~SEQ(i, 2) ~LST({a,b}, {p,q}, {r,s}) u_${i}${a}${b}\n",
        want: "1:t_1_1 1:t_1_2 1:t_1_3 1:t_2_2 1:t_2_3 \
               2:n_x1 2:n_x2 2:n_y1 2:n_y2 \
               3:u_1pq 3:u_1rs 3:u_2pq 3:u_2rs",
    },
    Case {
        name: "parameters",
        conf: "$L=~SEQ(i,1,2)\n\
               $A=$L\n\
               $L k_$i\n\
               $A m_$i\n\
               $L n_x\n\
               $N=3\n\
               ~SEQ(i, $N) p_$i\n\
               ~SEQ(i, ${N}, -1, 2) q_$i\n\
               $W=web\n\
               ~LST(v, $W, x) w_$v\n",
        want: "3:k_1 3:k_2 \
               4:m_1 4:m_2 \
               5:~SEQ(i,1,2) \
               7:p_1 7:p_2 7:p_3 \
               8:q_3 8:q_2 \
               10:w_web 10:w_x",
    },
    Case {
        name: "variables_persist",
        conf: "$i=9\n\
               before_$i\n\
               ~SEQ(i,1,2) r_$i\n\
               after_$i\n\
               ~SEQ(i,1,2) $V=$i\n\
               v_$V\n\
               ~SEQ(z, 4)\n\
               w_$z\n\
               ~SEQ(i,1,2) $i=7\n\
               x_$i\n",
        want: "2:before_9 \
               3:r_1 3:r_2 \
               4:after_2 \
               6:v_2 \
               8:w_4 \
               10:x_7",
    },
    Case {
        name: "conditional_and_multiline",
        conf: "@lb1 ~SEQ(i,1,2) at_$i\n\
               @other ~SEQ(i,1,2) no_$i\n\
               ~SEQ(i,1,2) @lb1 in_$i\n\
               ~SEQ(i,1,2) @^lb1 out_$i\n\
               $M=ma_$i \\\n\
               mb_$i\n\
               ~SEQ(i,1,2) $M\n\
               ~SEQ(i j, 1, 3) q_$i\n\
               ~SEQ(i,1,2) n_$i$i_\n",
        want: "1:at_1 1:at_2 \
               3:in_1 3:in_2 \
               7:ma_1 7:mb_1 7:ma_2 7:mb_2 \
               8:q_0 8:q_1 8:q_2 8:q_3 \
               9:n_$i$i_ 9:n_$i$i_",
    },
    Case {
        name: "mixed",
        conf: "~SEQ(i,1,2)~SEQ(j,1,2) a_$i$j\n\
               ~SEQ(i,1,2) b_$i # comment $i\n\
               ~SEQ (i, 2) c_$i\n\
               ~SEQ(i,1,2) ~LST(v, a$i, b) d_$v\n\
               ~SEQx(i, 0, 0x10, 0x30) e_$i\n\
               ~SEQ(i,1,2) $M2\n\
               $M=~SEQ(j,1,2) mm_${i}_$j \\\n\
               mz_$i\n\
               ~SEQ(i,1,2) $M\n\
               ~SEQ(i, 1, 2) f_${i}x\n\
               ~LST({a,b,c}, {1}, {1,2,3}) g_$a$b$c\n\
               ~SEQ({x, 1, 2) h_$i\n\
               ~LST(a, 1)\n\
               ~SEQ(i,1,2) i_$a\n",
        want: "1:a_$i1 1:a_$i2 1:a_$i1 1:a_$i2 \
               2:b_1 2:b_2 \
               3:c_1 3:c_2 \
               4:d_a1 4:d_b 4:d_a2 4:d_b \
               5:e_0 5:e_10 5:e_20 5:e_30 \
               6:$M2 6:$M2 \
               9:mm_1_1 9:mm_1_2 9:mz_1 9:mm_2_1 9:mm_2_2 9:mz_2 \
               10:f_1x 10:f_2x \
               11:g_1 11:g_$a$b3 \
               12:h_2 12:h_2 \
               14:i_1 14:i_1",
    },
    Case {
        name: "numbers_and_words",
        conf: "~SEQ(i, 99999999999999999999, -1, 99999999999999999998) a_$i\n\
               ~SEQ(i,   +3   ) b_$i\n\
               ~LST(a, 1)c_$a\n\
               ~SEQ(i,1,2)\"d_$i\"\n\
               $BIG=1,                                                       3\n\
               ~SEQ(i, $BIG) e_$i\n\
               ~SEQ(i, $NOPE) f_$i\n\
               $N=2\n\
               $P=$N\n\
               ~SEQ(i, $P, 3) g_$i\n\
               ~SEQ(i, -0x3, 1, -2) h_$i\n\
               ~SEQ(i, 0x, 1) j_$i\n\
               ~SEQ(i, 09) k_$i\n\
               ~LST(a b, 1) l_$a\n\
               ~LST(a, 1 2) m_$a\n\
               ~LST(a, \"x y\") n_$a\n",
        want: "1:a_9223372036854775807 \
               2:b_1 2:b_2 2:b_3 \
               3:c_1 \
               4:d_$i 4:d_$i \
               6:e_1 6:e_2 6:e_3 \
               7:ERROR \
               10:g_2 10:g_3 \
               11:h_-3 11:h_-2 \
               12:ERROR \
               13:ERROR \
               14:ERROR \
               15:ERROR \
               16:ERROR",
    },
    Case {
        name: "refused",
        conf: "~SEQ(i, 1, 0, 3) a_$i\n\
               ~SEQ(i, 3, 1, 1) b_$i\n\
               ~SEQx(i, -1, 3) c_$i\n\
               ~SEQ(i,3\n\
               ~SEQUENCE(i,3) d_$i\n\
               ~SEQ(i) e_$i\n\
               ~SEQ(i, 1; 3) f_$i\n\
               ~SEQ(i, 1, 2, 3, 4) g_$i\n\
               ~LST(a) h_$a\n\
               ~LST({a,b}, {1,2,3}) i_$a\n\
               ~LST(a, 1 x\n\
               ~LSTx(a,1) j_$a\n\
               ~LST({a b}, 1) k_$a\n\
               ~LST(a, {1) l_$a\n\
               ~LST(a, 1} m_$a\n\
               ~LST(a, {1,2}) n_$a\n\
               ~SEQ(, 1, 2) o_$i\n\
               ok_end\n",
        want: "1:ERROR \
               2:ERROR \
               3:ERROR \
               4:ERROR \
               5:ERROR \
               6:ERROR \
               7:ERROR \
               8:ERROR \
               9:ERROR \
               10:ERROR \
               11:ERROR \
               12:ERROR \
               13:ERROR \
               14:ERROR \
               15:ERROR \
               16:ERROR \
               17:ERROR \
               18:ok_end",
    },
];

fn opts() -> CheckOptions {
    CheckOptions {
        config_id: Some("lb1".into()),
        interfaces: None,
    }
}

/// What our parser makes of a case, in keepalived's terms.
fn ours(conf: &str) -> Vec<(u32, String)> {
    let p = parse_str("/nonexistent-dir/loops.conf", conf, &opts());
    let mut out = Vec::new();
    for d in &p.diagnostics {
        let line = d.span.as_ref().map_or(0, |s| s.line);
        if let Some(kw) = d
            .message
            .strip_prefix("Unknown keyword '")
            .and_then(|m| m.strip_suffix('\''))
        {
            out.push((line, kw.to_string()));
        } else if d.message.contains("~SEQ") || d.message.contains("~LST") {
            assert_eq!(d.severity, Severity::Error, "{d}");
            out.push((line, ERR.to_string()));
        } else {
            panic!("unexpected diagnostic for\n{conf}\n{d}");
        }
    }
    // Line reading reports before the tree does; keepalived reports as it reads.
    out.sort_by_key(|&(line, _)| line);
    out
}

fn want(case: &Case) -> Vec<(u32, String)> {
    case.want
        .split_whitespace()
        .map(|w| {
            let (l, k) = w.split_once(':').expect("LINE:KEYWORD");
            (l.parse().expect("line number"), k.to_string())
        })
        .collect()
}

#[test]
fn recorded_expansions_match_ours() {
    let mut failures = Vec::new();
    for case in CASES {
        let got = ours(case.conf);
        if got != want(case) {
            failures.push(format!(
                "{}: keepalived {:?}\nours {got:?}",
                case.name, case.want
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The parent process's messages: "(Line N) ..." (the children repeat them with the file name).
fn keepalived(conf: &str, name: &str) -> Vec<(u32, String)> {
    let dir = std::env::temp_dir().join(format!("rvs-kaconf-loops-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let path: PathBuf = dir.join(format!("{name}.conf"));
    fs::write(&path, conf).expect("write config");
    let out = Command::new("keepalived")
        .args(["-t", "-i", "lb1", "-f"])
        .arg(&path)
        .output()
        .expect("run keepalived");
    let _ = fs::remove_file(&path);
    let _ = fs::remove_dir(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    let mut got = Vec::new();
    for l in err.lines() {
        let Some(rest) = l.strip_prefix("(Line ") else {
            continue;
        };
        let Some((n, msg)) = rest.split_once(") ") else {
            continue;
        };
        let n: u32 = n.parse().expect("line number");
        if let Some(kw) = msg
            .strip_prefix("Unknown keyword '")
            .and_then(|m| m.strip_suffix('\''))
        {
            got.push((n, kw.to_string()));
        } else if msg.starts_with("Invalid ~SEQ specification")
            || msg.starts_with("Invalid ~LST specification")
        {
            got.push((n, ERR.to_string()));
        }
    }
    got.sort_by_key(|&(line, _)| line);
    got
}

#[test]
fn keepalived_agrees() {
    if Command::new("keepalived").arg("-v").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "keepalived is not installed but CI=true: install it (apt-get install -y keepalived)"
        );
        eprintln!("skipping live oracle test: keepalived not installed");
        return;
    }
    let mut failures = Vec::new();
    for case in CASES {
        let live = keepalived(case.conf, case.name);
        if live != want(case) {
            failures.push(format!(
                "{}: keepalived now says {live:?}\nrecorded {:?}\nours {:?}",
                case.name,
                case.want,
                ours(case.conf)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The whole generated lines, not just their first word, with braces split off.
#[test]
fn whole_lines_are_repeated() {
    let conf = "virtual_server 203.0.113.1 80 {\n  ~SEQ(i, 1, 2) real_server 198.51.100.$i 80 { weight ${i}0 }\n}\n";
    let mut diags = Diagnostics::default();
    let mut rd = Reader::new(main_from_text("t.conf", conf), None, &mut diags);
    let mut got = Vec::new();
    while let Some(seg) = rd.next_segment() {
        got.push(match seg.kind {
            SegKind::Text => format!("{}:{}", seg.line, seg.text),
            SegKind::Open => "{".into(),
            SegKind::Close => "}".into(),
        });
    }
    drop(rd);
    assert!(diags.list.is_empty(), "{:?}", diags.list);
    assert_eq!(
        got,
        [
            "1:virtual_server 203.0.113.1 80",
            "{",
            "2:real_server 198.51.100.1 80",
            "{",
            "2:weight 10",
            "}",
            "2:real_server 198.51.100.2 80",
            "{",
            "2:weight 20",
            "}",
            "}",
        ]
    );
    let p = parse_str("t.conf", conf, &opts());
    assert!(!p.has_errors(), "{}", p.render());
    let vs = &p.config.virtual_servers;
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0].real_servers.len(), 2);
}

/// A bad loop gets file:line:column, the line and a caret under the fault.
#[test]
fn bad_loops_point_at_the_fault() {
    for (conf, col, words) in [
        ("  ~SEQ(i, 1, 0, 3) x\n", 11, "STEP is 0"),
        ("~SEQ(i, 1; 3) x\n", 10, "',' or ')' expected"),
        ("~SEQ(i,3\n", 9, "missing terminating ')'"),
        ("~LST({a,b}, {1,2,3}) x\n", 18, "too many values"),
        ("~LST(a) x\n", 9, "Invalid ~LST specification"),
        ("\t~SEQx(i, -1, 3) x\n", 11, "positive"),
    ] {
        let p = parse_str("bad.conf", conf, &opts());
        assert_eq!(p.diagnostics.len(), 1, "{conf}: {}", p.render());
        let d = &p.diagnostics[0];
        assert!(d.is_error() && d.message.contains(words), "{conf}: {d}");
        assert!(d.help.is_some(), "{d}");
        assert_eq!(p.exit_code(), 5, "keepalived rates it a config error");
        let text = d.to_string();
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("bad.conf:1:{col}: error: ")),
            "{conf}: {text}"
        );
        let caret = text.lines().nth(2).unwrap_or_default();
        let src = conf.trim_end_matches('\n');
        let lead: String = src
            .chars()
            .take(col - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        assert_eq!(caret, format!("  | {lead}^"), "{text}");
    }
}

/// Loops that would never end in keepalived stop with an error here.
#[test]
fn runaway_loops_are_bounded() {
    for conf in [
        "~SEQ(i, 0, 1, 9223372036854775807) x_$i\n",
        "~SEQ(i, 1000) ~SEQ(j, 1000)\n",
        "~SEQ(i, 2) ~SEQ(j, 99999)\n",
        "~SEQ(i, 3) ~SEQ(j, 99998)\n",
        "$L=~SEQ(i,1,2) $L\n$L\n",
    ] {
        let p = parse_str("big.conf", conf, &opts());
        assert!(p.has_errors(), "{conf}");
        let d = &p.diagnostics[0];
        assert!(
            d.message.contains("allows") || d.message.contains("nested"),
            "{conf}: {d}"
        );
        assert!(p.diagnostics.len() < 10, "{conf}: {}", p.render());
    }
}

/// Unknown keywords in the order keepalived's parent process reports them, wherever
/// they are; the main file must end with the keyword `end_of_main`, whose report ends
/// the parent's part (its children repeat everything, naming the main file).
fn keepalived_keywords(main: &std::path::Path) -> Vec<String> {
    let out = Command::new("keepalived")
        .args(["-t", "-i", "lb1", "-f"])
        .arg(main)
        .output()
        .expect("run keepalived");
    let err = String::from_utf8_lossy(&out.stderr);
    let mut got = Vec::new();
    for l in err.lines() {
        let Some(kw) = l
            .split_once(") Unknown keyword '")
            .and_then(|(_, k)| k.strip_suffix('\''))
        else {
            continue;
        };
        if kw == "end_of_main" {
            break;
        }
        got.push(kw.to_string());
    }
    got
}

/// An `include` repeated by a loop: each file is opened, the last one read first,
/// and a `$VAR` must be ended by a blank, `,`, `)` or `}` to be replaced.
#[test]
fn includes_in_a_loop() {
    let dir = std::env::temp_dir().join(format!("rvs-kaconf-loop-inc-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let main = dir.join("main.conf");
    fs::write(
        &main,
        "~SEQ(i,1,2) include inc${i}.part\nafter_$i\n~SEQ(i,1,2) include inc$i.part\n~LST(f, inc2.part, nope.part) include $f\nend_of_main\n",
    )
    .expect("write");
    fs::write(dir.join("inc1.part"), "one_$i\none_b_$i\n").expect("write");
    fs::write(dir.join("inc2.part"), "two_$i\n").expect("write");
    let p = rvs_kaconf::parse_file(&main, &opts());
    let ours: Vec<String> = p
        .diagnostics
        .iter()
        .filter_map(|d| {
            Some(
                d.message
                    .strip_prefix("Unknown keyword '")?
                    .strip_suffix('\'')?
                    .to_string(),
            )
        })
        .collect();
    let missing: Vec<&str> = p
        .diagnostics
        .iter()
        .filter(|d| d.message.starts_with("Config files missing"))
        .map(|d| d.message.as_str())
        .collect();
    let live = Command::new("keepalived")
        .arg("-v")
        .output()
        .is_ok()
        .then(|| keepalived_keywords(&main));
    let _ = fs::remove_dir_all(&dir);
    let recorded = [
        "two_2",
        "one_2",
        "one_b_2",
        "after_2",
        "two_2",
        "end_of_main",
    ];
    assert_eq!(ours, recorded, "{}", p.render());
    assert_eq!(
        missing,
        [
            "Config files missing 'inc$i.part'.",
            "Config files missing 'inc$i.part'.",
            "Config files missing 'nope.part'."
        ]
    );
    match live {
        Some(live) => assert_eq!(live, recorded[..5], "keepalived changed its mind"),
        None => assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "keepalived is not installed but CI=true"
        ),
    }
}
