use super::*;

const HERE: &[(&str, &str)] = &[("here", "/proj")];

fn get(ini: &Ini, section: &str, key: &str) -> Option<String> {
    ini.get(section, key, HERE).expect("valid").map(|v| v.value)
}

#[test]
fn reads_sections_keys_and_both_delimiters() {
    let ini = Ini::parse(
        "# comment\n[alembic]\nScript_Location = %(here)s/migrations\nsqlalchemy.url: sqlite:///a.db\n; other\n[post]\nx=1\n",
    )
    .unwrap();
    assert_eq!(
        get(&ini, "alembic", "script_location").as_deref(),
        Some("/proj/migrations")
    );
    assert_eq!(
        get(&ini, "alembic", "SQLALCHEMY.URL").as_deref(),
        Some("sqlite:///a.db")
    );
    assert_eq!(ini.raw("alembic", "sqlalchemy.url").unwrap().1, 4);
    assert_eq!(ini.section_names().collect::<Vec<_>>(), ["alembic", "post"]);
    assert_eq!(get(&ini, "post", "x").as_deref(), Some("1"));
    assert_eq!(get(&ini, "alembic", "x"), None);
    assert_eq!(get(&ini, "nosuch", "x"), None);
}

#[test]
fn splits_at_the_first_delimiter_and_keeps_hashes_in_values() {
    let ini = Ini::parse("[a]\nurl = driver://u:p@h/db # not a comment\nk: a=b\n").unwrap();
    assert_eq!(
        get(&ini, "a", "url").as_deref(),
        Some("driver://u:p@h/db # not a comment")
    );
    assert_eq!(get(&ini, "a", "k").as_deref(), Some("a=b"));
}

#[test]
fn header_runs_to_the_last_bracket() {
    let ini = Ini::parse("[alembic] trailing ]x\nk = v\n").unwrap();
    assert!(ini.has_section("alembic] trailing "));
    let ini = Ini::parse("[alembic] trailing\nk = v\n").unwrap();
    assert!(ini.has_section("alembic"));
}

#[test]
fn continuation_lines_join_with_newlines() {
    let ini = Ini::parse(
        "[a]\nlocs =\n    one\n    # skipped comment\n    two\n\n    three\n\n\nnext = x\n",
    )
    .unwrap();
    assert_eq!(
        get(&ini, "a", "locs").as_deref(),
        Some("\none\ntwo\n\nthree")
    );
    assert_eq!(get(&ini, "a", "next").as_deref(), Some("x"));
}

#[test]
fn an_indented_key_sets_the_indent_of_its_continuations() {
    let ini = Ini::parse("[a]\n  k = 1\n  j = 2\n    more\n").unwrap();
    assert_eq!(get(&ini, "a", "k").as_deref(), Some("1"));
    assert_eq!(get(&ini, "a", "j").as_deref(), Some("2\nmore"));
}

#[test]
fn universal_newlines_and_a_bom() {
    let ini = Ini::parse("\u{feff}[a]\r\nk = 1\rj = 2\r\n").unwrap();
    assert_eq!(get(&ini, "a", "k").as_deref(), Some("1"));
    assert_eq!(get(&ini, "a", "j").as_deref(), Some("2"));
}

#[test]
fn default_section_is_seen_by_every_section_and_overrides_here() {
    let ini = Ini::parse(
        "[DEFAULT]\nbase = %(here)s/x\n[a]\nloc = %(base)s/y\nown = %(mine)s\nmine = m\n[DEFAULT]\nlate = l\n",
    )
    .unwrap();
    assert_eq!(get(&ini, "a", "loc").as_deref(), Some("/proj/x/y"));
    assert_eq!(get(&ini, "a", "base").as_deref(), Some("/proj/x"));
    assert_eq!(get(&ini, "a", "own").as_deref(), Some("m"));
    assert_eq!(get(&ini, "a", "late").as_deref(), Some("l"));
    let ini = Ini::parse("[DEFAULT]\nhere = /elsewhere\n[a]\nk = %(here)s\n").unwrap();
    assert_eq!(get(&ini, "a", "k").as_deref(), Some("/elsewhere"));
}

#[test]
fn percent_escapes_and_reference_names_are_lowercased() {
    let ini = Ini::parse("[a]\nt = %%(rev)s_%%(slug)s\nr = %(T)s\nv = 50%%\n").unwrap();
    assert_eq!(get(&ini, "a", "t").as_deref(), Some("%(rev)s_%(slug)s"));
    // A referenced value is interpolated again, so its `%%` becomes `%` too.
    assert_eq!(get(&ini, "a", "r").as_deref(), Some("%(rev)s_%(slug)s"));
    assert_eq!(get(&ini, "a", "v").as_deref(), Some("50%"));
}

#[test]
fn interpolation_is_lazy() {
    let ini = Ini::parse("[formatter]\nformat = %(levelname)-5.5s\n[a]\nk = v\n").unwrap();
    assert_eq!(get(&ini, "a", "k").as_deref(), Some("v"));
    let err = ini.get("formatter", "format", HERE).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("not a reference"), "{}", err.message);
}

#[test]
fn interpolation_errors_name_the_key_and_line() {
    let ini = Ini::parse("[a]\n\nx = 100%\ny = %(nope)s\n").unwrap();
    let e = ini.get("a", "x", HERE).unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.message.contains("'x'"), "{}", e.message);
    let e = ini.get("a", "y", HERE).unwrap_err();
    assert_eq!(e.line, 4);
    assert!(e.message.contains("%(nope)s is not set"), "{}", e.message);
}

#[test]
fn recursive_references_stop_at_the_depth_limit() {
    let ini = Ini::parse("[a]\na = %(b)s\nb = %(a)s\nself = x%(self)s\n").unwrap();
    let e = ini.get("a", "a", HERE).unwrap_err();
    assert!(e.message.contains("deeper than 10"), "{}", e.message);
    assert!(ini.get("a", "self", HERE).is_err());
    // Ten levels are fine, as in configparser.
    let mut text = String::from("[a]\n");
    for i in 0..9 {
        text.push_str(&format!("k{i} = %(k{})s\n", i + 1));
    }
    text.push_str("k9 = %(here)s\n");
    let ini = Ini::parse(&text).unwrap();
    assert_eq!(get(&ini, "a", "k0").as_deref(), Some("/proj"));
}

#[test]
fn exponential_expansion_is_bounded() {
    let mut text = String::from("[a]\n");
    let refs = |n: usize| "%(n)s".replace('n', &n.to_string()).repeat(50);
    for i in 0..9 {
        text.push_str(&format!("k{i} = {}\n", refs(i + 1)));
    }
    text.push_str("k9 = \n");
    let ini = Ini::parse(&text.replace("%(", "%(k")).unwrap();
    let e = ini.get("a", "k0", HERE).unwrap_err();
    assert!(e.message.contains("references expanded"), "{}", e.message);
}

#[test]
fn syntax_errors_have_lines_and_no_values() {
    let e = Ini::parse("k = secret\n").unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.message.contains("no section header"));
    assert!(!e.message.contains("secret"));

    let e = Ini::parse("[a]\nk = 1\njust-secret-text\nk2 = 2\n").unwrap_err();
    assert_eq!(e.line, 3);
    assert!(!e.message.contains("secret"), "{}", e.message);

    let e = Ini::parse("[a]\n= v\n").unwrap_err();
    assert_eq!(e.line, 2);

    let e = Ini::parse("[a]\nk = 1\n[b]\n[a]\n").unwrap_err();
    assert_eq!((e.line, e.message.contains("first on line 1")), (4, true));

    let e = Ini::parse("[a]\nK = 1\nk: 2\n").unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.message.contains("appears twice"));

    // A fatal error after a bad line wins, as in configparser.
    let e = Ini::parse("[a]\nbad\n[a]\n").unwrap_err();
    assert_eq!(e.line, 3);
}

#[test]
fn oversized_files_are_refused() {
    let text = format!("[a]\nk = {}\n", "x".repeat(MAX_INI_BYTES));
    assert_eq!(Ini::parse(&text).unwrap_err().line, 0);
}

#[test]
fn excerpts_are_short_and_escaped() {
    let e = excerpt(&"\n".repeat(100));
    assert!(e.starts_with("\\n") && e.ends_with('…') && !e.contains('\n'));
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "(\\PC|[\\n\\r\\t \\[\\]=:%()#;s])*") {
        if let Ok(ini) = Ini::parse(&text) {
            let names: Vec<String> = ini.section_names().map(str::to_owned).collect();
            for name in names.iter().map(String::as_str).chain([DEFAULT_SECTION]) {
                for key in ["k", "a", "script_location"] {
                    let _ = ini.get(name, key, HERE);
                }
            }
        }
    }

    #[test]
    fn structured_text_never_panics(
        lines in proptest::collection::vec(
            "( *)(\\[[a-c]\\]|[a-c] ?[=:] ?(%\\([a-c]\\)s|%%|%|x| )*|#.*| +[a-c%()s]*|)",
            0..20,
        )
    ) {
        let text = lines.join("\n");
        if let Ok(ini) = Ini::parse(&text) {
            for sec in ["a", "b", "c", DEFAULT_SECTION] {
                for key in ["a", "b", "c"] {
                    let _ = ini.get(sec, key, HERE);
                }
            }
        }
    }
}
