use super::*;

use std::fs;

/// A temp project: `files` are (relative path, contents); directories are created.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join(".git")).unwrap();
    for (rel, text) in files {
        let p = tmp.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        if rel.ends_with('/') {
            fs::create_dir_all(&p).unwrap();
        } else {
            fs::write(p, text).unwrap();
        }
    }
    tmp
}

fn message(e: ConfigError) -> String {
    e.to_string()
}

const GENERIC_INI: &str = "\
# A generic single-database configuration.
[alembic]
script_location = %(here)s/alembic
prepend_sys_path = .
path_separator = os
sqlalchemy.url = postgresql://u:p@localhost/db

[logger_root]
level = WARNING

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
";

#[test]
fn reads_the_generic_template() {
    let tmp = project(&[
        ("alembic.ini", GENERIC_INI),
        (
            "alembic/env.py",
            "def run():\n    context.configure(connection=c, target_metadata=m, version_table='av', version_table_schema=\"s\")\n",
        ),
    ]);
    let root = tmp.path();
    let s = load(&root.join("alembic.ini"), None).unwrap();
    assert_eq!(s.section, "alembic");
    assert_eq!(
        s.ini_path.as_deref(),
        Some(root.join("alembic.ini").as_path())
    );
    assert_eq!(s.pyproject_path, None);
    assert_eq!(s.script_location, root.join("alembic"));
    assert_eq!(
        s.version_locations,
        VersionLocations {
            dirs: vec![root.join("alembic/versions")],
            recursive: false
        }
    );
    assert_eq!(s.file_template, "%(rev)s_%(slug)s");
    assert_eq!(s.truncate_slug_length, 40);
    assert_eq!(s.timezone, None);
    assert_eq!(
        s.sqlalchemy_url.as_deref(),
        Some("postgresql://u:p@localhost/db")
    );
    assert_eq!(s.version_table.as_deref(), Some("av"));
    assert_eq!(s.version_table_schema.as_deref(), Some("s"));
    assert_eq!(s.sources["script_location"].line, Some(3));
    assert_eq!(s.sources["sqlalchemy.url"].line, Some(6));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn reads_settings_and_relative_paths_from_the_config_dir() {
    let tmp = project(&[
        (
            "cfg/other.ini",
            "[alembic]\nscript_location = migrations\nfile_template = %%(year)d_%%(rev)s\ntimezone = UTC\ntruncate_slug_length = 1_2\nversion_locations = %(here)s/a;b\npath_separator = ;\nrecursive_version_locations = true\n",
        ),
        ("cfg/migrations/", ""),
    ]);
    let cfg = tmp.path().join("cfg");
    let s = load(&cfg.join("other.ini"), None).unwrap();
    assert_eq!(s.script_location, cfg.join("migrations"));
    assert_eq!(s.file_template, "%(year)d_%(rev)s");
    assert_eq!(s.timezone.as_deref(), Some("UTC"));
    assert_eq!(s.truncate_slug_length, 12);
    assert_eq!(s.version_locations.dirs, [cfg.join("a"), cfg.join("b")]);
    assert!(s.version_locations.recursive);
    assert_eq!(s.version_table, None);
}

#[test]
fn the_section_is_chosen_by_name() {
    let tmp = project(&[
        (
            "alembic.ini",
            "[alembic]\nscript_location = one\n[two]\nscript_location = two\n",
        ),
        ("one/", ""),
        ("two/", ""),
    ]);
    let ini = tmp.path().join("alembic.ini");
    assert_eq!(
        load(&ini, None).unwrap().script_location,
        tmp.path().join("one")
    );
    let s = load(&ini, Some("two")).unwrap();
    assert_eq!(
        (s.section.as_str(), s.script_location),
        ("two", tmp.path().join("two"))
    );
    let e = message(load(&ini, Some("three")).unwrap_err());
    assert!(
        e.contains("no 'script_location' key found in section [three]"),
        "{e}"
    );
    assert!(e.contains("no such section"), "{e}");
}

#[test]
fn missing_script_location_names_file_and_section() {
    let tmp = project(&[("alembic.ini", "[alembic]\nsqlalchemy.url = sqlite://\n")]);
    let e = load(&tmp.path().join("alembic.ini"), None).unwrap_err();
    let ConfigError::Invalid {
        path,
        line,
        message,
    } = e
    else {
        panic!("{e:?}")
    };
    assert_eq!(path, tmp.path().join("alembic.ini"));
    assert_eq!(line, None);
    assert!(
        message.contains("script_location") && message.contains("[alembic]"),
        "{message}"
    );
}

#[test]
fn a_missing_script_directory_is_an_error() {
    let tmp = project(&[("alembic.ini", "[alembic]\nscript_location = nope\n")]);
    let e = message(load(&tmp.path().join("alembic.ini"), None).unwrap_err());
    assert!(e.contains(":2:") && e.contains("doesn't exist"), "{e}");
}

#[test]
fn legacy_and_deprecated_separators_warn() {
    let tmp = project(&[
        (
            "a.ini",
            "[alembic]\nscript_location = s\nversion_locations = x, y  z\n",
        ),
        (
            "b.ini",
            "[alembic]\nscript_location = s\nversion_locations = x y\nversion_path_separator = space\n",
        ),
        (
            "c.ini",
            "[alembic]\nscript_location = s\nversion_locations =\n  x\n  y\npath_separator = newline\n",
        ),
        (
            "d.ini",
            "[alembic]\nscript_location = s\nversion_locations = x\npath_separator = comma\n",
        ),
        ("s/", ""),
    ]);
    let root = tmp.path();
    let a = load(&root.join("a.ini"), None).unwrap();
    assert_eq!(
        a.version_locations.dirs,
        [root.join("x"), root.join("y"), root.join("z")]
    );
    assert!(a.warnings[0].contains("path_separator"), "{:?}", a.warnings);
    let b = load(&root.join("b.ini"), None).unwrap();
    assert_eq!(b.version_locations.dirs, [root.join("x"), root.join("y")]);
    assert!(b.warnings[0].contains("version_path_separator is deprecated"));
    let c = load(&root.join("c.ini"), None).unwrap();
    assert_eq!(c.version_locations.dirs, [root.join("x"), root.join("y")]);
    assert!(c.warnings.is_empty());
    let d = message(load(&root.join("d.ini"), None).unwrap_err());
    assert!(
        d.contains("'comma' is not a valid value for path_separator") && d.contains(":4:"),
        "{d}"
    );
}

#[test]
fn legacy_split_matches_alembics_regex() {
    // re.split(r", *|(?: +)", ...) in Alembic 1.20.1.
    assert_eq!(legacy_split("a,  b   c,,d\ne"), ["a", "b", "c", "", "d\ne"]);
    assert_eq!(legacy_split("a ,b"), ["a", "", "b"]);
    assert_eq!(legacy_split("one"), ["one"]);
}

#[test]
fn only_lowercase_true_turns_recursion_on_in_the_ini() {
    let tmp = project(&[
        (
            "a.ini",
            "[alembic]\nscript_location = s\nrecursive_version_locations = True\n",
        ),
        ("s/", ""),
    ]);
    assert!(
        !load(&tmp.path().join("a.ini"), None)
            .unwrap()
            .version_locations
            .recursive
    );
}

#[test]
fn truncate_slug_length_is_an_integer() {
    assert_eq!(parse_py_int(" 12 "), Some(12));
    assert_eq!(parse_py_int("+1_000"), Some(1000));
    assert_eq!(parse_py_int("-3"), Some(-3));
    for bad in ["", "1__0", "_1", "1.5", "x", "0x10"] {
        assert_eq!(parse_py_int(bad), None, "{bad}");
    }
    let tmp = project(&[
        (
            "a.ini",
            "[alembic]\nscript_location = s\ntruncate_slug_length = 0\n",
        ),
        (
            "b.ini",
            "[alembic]\nscript_location = s\ntruncate_slug_length = ten\n",
        ),
        ("s/", ""),
    ]);
    assert_eq!(
        load(&tmp.path().join("a.ini"), None)
            .unwrap()
            .truncate_slug_length,
        40
    );
    let e = message(load(&tmp.path().join("b.ini"), None).unwrap_err());
    assert!(
        e.contains(":3:") && e.contains("truncate_slug_length"),
        "{e}"
    );
}

const PYPROJECT: &str = r#"[project]
name = "app"

[tool.alembic]
script_location = "%(here)s/alembic"
version_locations = ["%(here)s/alembic/versions", "%(here)s/more"]
file_template = "%%(rev)s_%%(slug)s_x"
recursive_version_locations = true
truncate_slug_length = 20
prepend_sys_path = ["."]
"#;

#[test]
fn reads_pyproject_with_the_ini_beside_it() {
    let tmp = project(&[
        ("pyproject.toml", PYPROJECT),
        (
            "alembic.ini",
            "[alembic]\nsqlalchemy.url = sqlite:///app.db\n",
        ),
        ("alembic/", ""),
    ]);
    let root = tmp.path();
    for named in ["pyproject.toml", "alembic.ini"] {
        let s = load(&root.join(named), None).unwrap();
        assert_eq!(
            s.pyproject_path.as_deref(),
            Some(root.join("pyproject.toml").as_path())
        );
        assert_eq!(
            s.ini_path.as_deref(),
            Some(root.join("alembic.ini").as_path())
        );
        assert_eq!(s.script_location, root.join("alembic"));
        assert_eq!(
            s.version_locations.dirs,
            [root.join("alembic/versions"), root.join("more")]
        );
        assert!(s.version_locations.recursive);
        assert_eq!(s.file_template, "%(rev)s_%(slug)s_x");
        assert_eq!(s.truncate_slug_length, 20);
        assert_eq!(s.sqlalchemy_url.as_deref(), Some("sqlite:///app.db"));
        assert_eq!(s.sources["script_location"].line, Some(5));
        assert_eq!(s.sources["sqlalchemy.url"].line, Some(2));
    }
}

#[test]
fn pyproject_alone_and_the_ini_winning() {
    let tmp = project(&[
        ("p/pyproject.toml", PYPROJECT),
        ("p/alembic/", ""),
        ("q/pyproject.toml", PYPROJECT),
        (
            "q/alembic.ini",
            "[alembic]\nscript_location = other\nfile_template = %%(rev)s\n",
        ),
        ("q/other/", ""),
    ]);
    let p = load(&tmp.path().join("p/pyproject.toml"), None).unwrap();
    assert_eq!((p.ini_path, p.sqlalchemy_url), (None, None));
    let q = load(&tmp.path().join("q/pyproject.toml"), None).unwrap();
    assert_eq!(q.script_location, tmp.path().join("q/other"));
    assert_eq!(q.file_template, "%(rev)s");
    // Keys the ini lacks still come from [tool.alembic].
    assert_eq!(q.truncate_slug_length, 20);
}

#[test]
fn pyproject_type_and_format_errors_have_lines() {
    let tmp = project(&[
        (
            "a/pyproject.toml",
            "[tool.alembic]\nscript_location = \"s\"\nrecursive_version_locations = \"true\"\n",
        ),
        ("a/s/", ""),
        (
            "b/pyproject.toml",
            "[tool.alembic]\nscript_location = \"%(there)s/s\"\n",
        ),
        (
            "c/pyproject.toml",
            "[tool.alembic]\nscript_location = \"s\"\nversion_locations = \"v\"\n",
        ),
        ("c/s/", ""),
        ("d/pyproject.toml", "[tool.alembic\nscript_location = 's'\n"),
        ("e/pyproject.toml", "[project]\nname = 'x'\n"),
    ]);
    let err =
        |d: &str| message(load(&tmp.path().join(d).join("pyproject.toml"), None).unwrap_err());
    let a = err("a");
    assert!(a.contains(":3:") && a.contains("true or false"), "{a}");
    let b = err("b");
    assert!(b.contains(":2:") && b.contains("%(there)s"), "{b}");
    let c = err("c");
    assert!(c.contains(":3:") && c.contains("list of strings"), "{c}");
    let d = err("d");
    assert!(d.contains(":1:"), "{d}");
    let e = err("e");
    assert!(e.contains("script_location"), "{e}");
}

#[test]
fn package_resources_resolve_in_the_source_tree() {
    let tmp = project(&[
        ("src/myapp/db/migrations/", ""),
        ("lib/other/", ""),
        ("deploy/alembic.ini", "[alembic]\nscript_location = myapp.db:migrations\nversion_locations = myapp.db:migrations/versions other:\npath_separator = space\n"),
        ("deploy/other/", ""),
    ]);
    let root = tmp.path();
    let s = load(&root.join("deploy/alembic.ini"), None).unwrap();
    assert_eq!(s.script_location, root.join("src/myapp/db/migrations"));
    assert_eq!(
        s.version_locations.dirs,
        [
            root.join("src/myapp/db/migrations/versions"),
            root.join("deploy/other/")
        ]
    );
    let e = resolve_location("nopkg:x", &root.join("deploy")).unwrap_err();
    assert!(e.contains("package 'nopkg'"), "{e}");
    assert!(resolve_location("not a package:x", root).is_err());
    assert_eq!(
        resolve_location("/abs:x", root).unwrap(),
        PathBuf::from("/abs:x")
    );
}

#[test]
fn env_py_is_optional_and_a_broken_one_does_not_stop_loading() {
    let tmp = project(&[
        ("a/alembic.ini", "[alembic]\nscript_location = s\n"),
        ("a/s/", ""),
        ("b/alembic.ini", "[alembic]\nscript_location = s\n"),
        (
            "b/s/env.py",
            "x = (\ncontext.configure(version_table=\"vt\")\n",
        ),
    ]);
    let a = load(&tmp.path().join("a/alembic.ini"), None).unwrap();
    assert_eq!(a.version_table, None);
    let b = load(&tmp.path().join("b/alembic.ini"), None).unwrap();
    assert!(b.version_table_schema.is_none());
}

#[test]
fn ini_errors_carry_the_file_and_line() {
    let tmp = project(&[("alembic.ini", "[alembic]\nscript_location = %(nope)s\n")]);
    let e = message(load(&tmp.path().join("alembic.ini"), None).unwrap_err());
    assert!(e.contains("alembic.ini:2:"), "{e}");
    let e = load(&tmp.path().join("missing.ini"), None).unwrap_err();
    assert!(matches!(e, ConfigError::NotFound(_)), "{e:?}");
}

#[test]
fn py_format_substitutes_here_and_percent() {
    assert_eq!(py_format("%(here)s/a%%b", "/p").unwrap(), "/p/a%b");
    assert!(py_format("50%", "/p").is_err());
    assert!(py_format("%(x)s", "/p").unwrap_err().contains("%(x)s"));
}
