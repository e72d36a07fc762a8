//! The command line, run as users run it: the real binary against a fresh database each test.

mod common;

use std::io::Write;

use common::{TestDb, empty_home, ok, run};
use serde_json::Value;

#[tokio::test]
async fn workspace_create_prints_id_and_api_key_and_makes_the_owner() {
    let db = TestDb::new().await;
    let home = empty_home();
    let created = ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "Ana@Example.com",
    ]));
    assert!(
        created.stdout.contains("created workspace acme (Acme)"),
        "{created:?}"
    );
    let id_line = created
        .stdout
        .lines()
        .find(|l| l.starts_with("id:"))
        .unwrap();
    let id: uuid::Uuid = id_line["id:".len()..].trim().parse().unwrap();
    let key_line = created
        .stdout
        .lines()
        .find(|l| l.starts_with("api key:"))
        .unwrap();
    let api_key = key_line["api key:".len()..].trim();
    assert!(
        api_key.starts_with("tx_") && api_key.len() > 40,
        "{api_key}"
    );

    let (stored_key, role): (String, String) = sqlx::query_as(
        "SELECT w.api_key, m.role::text FROM workspaces w \
         JOIN workspace_members m ON m.workspace_id = w.id \
         JOIN users u ON u.id = m.user_id WHERE w.id = $1 AND u.email = 'ana@example.com'",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(stored_key, api_key);
    assert_eq!(role, "OWNER");
}

#[tokio::test]
async fn workspace_create_json_is_the_created_record() {
    let db = TestDb::new().await;
    let home = empty_home();
    let created = ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "ana@example.com",
        "--json",
    ]))
    .json();
    assert_eq!(created["slug"], "acme");
    assert_eq!(created["name"], "Acme");
    assert!(created["api_key"].as_str().unwrap().starts_with("tx_"));
    assert_eq!(created["owner"]["role"], "OWNER");
    assert_eq!(created["owner"]["email"], "ana@example.com");

    let list = ok(db.treeex(home.path()).args(["workspace", "list", "--json"])).json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["slug"], "acme");
    assert_eq!(list[0]["id"], created["id"]);
    // The list never shows credentials.
    assert!(list[0].get("api_key").is_none());
}

#[tokio::test]
async fn workspace_owner_defaults_to_the_configured_user() {
    let db = TestDb::new().await;
    let home = empty_home();
    let config = home.path().join("treeex.toml");
    std::fs::write(
        &config,
        "[user]\nemail = \"lead@example.com\"\nname = \"Lea\"\n",
    )
    .unwrap();
    ok(db.treeex(home.path()).arg("--config").arg(&config).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
    ]));
    let members =
        ok(db
            .treeex(home.path())
            .args(["member", "list", "--workspace", "acme", "--json"]))
        .json();
    assert_eq!(members[0]["email"], "lead@example.com");
    assert_eq!(members[0]["name"], "Lea");
    assert_eq!(members[0]["role"], "OWNER");
}

#[tokio::test]
async fn workspace_create_without_any_owner_says_how_to_add_one() {
    let db = TestDb::new().await;
    let home = empty_home();
    let created =
        ok(db
            .treeex(home.path())
            .args(["workspace", "create", "acme", "--name", "Acme"]));
    assert!(created.stdout.contains("api key: tx_"), "{created:?}");
    assert!(
        created
            .stdout
            .contains("owner:   none yet; add one with `treeex member add --workspace acme --email EMAIL --role owner`"),
        "{created:?}"
    );
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM workspace_members")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(members, 0);
    let json = ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "other",
        "--name",
        "Other",
        "--json",
    ]))
    .json();
    assert_eq!(json["owner"], Value::Null);
}

#[tokio::test]
async fn a_duplicate_slug_is_named_not_a_sql_error() {
    let db = TestDb::new().await;
    let home = empty_home();
    let create = [
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "a@example.com",
    ];
    ok(db.treeex(home.path()).args(create));
    let again = run(db.treeex(home.path()).args(create));
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(again.stderr, "error: workspace `acme` already exists\n");
    assert!(again.stdout.is_empty());
}

#[tokio::test]
async fn a_bad_slug_is_bad_usage() {
    let db = TestDb::new().await;
    let home = empty_home();
    let failed = run(db.treeex(home.path()).args([
        "workspace",
        "create",
        "Not A Slug",
        "--name",
        "X",
        "--owner",
        "a@example.com",
    ]));
    assert_eq!(failed.code, 2, "{failed:?}");
    assert!(
        failed.stderr.contains("is not a workspace slug"),
        "{failed:?}"
    );
}

#[tokio::test]
async fn an_unknown_workspace_is_named() {
    let db = TestDb::new().await;
    let home = empty_home();
    let failed = run(db
        .treeex(home.path())
        .args(["member", "list", "--workspace", "nope"]));
    assert_eq!(failed.code, 1, "{failed:?}");
    assert!(
        failed
            .stderr
            .starts_with("error: workspace `nope` not found"),
        "{failed:?}"
    );
}

#[tokio::test]
async fn members_are_added_listed_and_not_added_twice() {
    let db = TestDb::new().await;
    let home = empty_home();
    ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "owner@example.com",
    ]));
    let added = ok(db.treeex(home.path()).args([
        "member",
        "add",
        "--workspace",
        "acme",
        "--email",
        "Bo@Example.com",
        "--role",
        "admin",
        "--name",
        "Bo",
        "--json",
    ]))
    .json();
    assert_eq!(added["email"], "bo@example.com");
    assert_eq!(added["role"], "ADMIN");
    ok(db.treeex(home.path()).args([
        "member",
        "add",
        "--workspace",
        "acme",
        "--email",
        "cy@example.com",
        "--role",
        "member",
    ]));

    let again = run(db.treeex(home.path()).args([
        "member",
        "add",
        "--workspace",
        "acme",
        "--email",
        "bo@example.com",
        "--role",
        "member",
    ]));
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(
        again.stderr,
        "error: bo@example.com is already a member of this workspace\n"
    );

    let list = ok(db
        .treeex(home.path())
        .args(["member", "list", "--workspace", "acme", "--json"]))
    .json();
    let roles: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("owner@example.com", "OWNER"),
            ("bo@example.com", "ADMIN"),
            ("cy@example.com", "MEMBER")
        ]
    );

    let table = ok(db
        .treeex(home.path())
        .args(["member", "list", "--workspace", "acme"]));
    let header = table.stdout.lines().next().unwrap();
    assert!(
        header.contains("EMAIL") && header.contains("ROLE"),
        "{table:?}"
    );
    assert!(table.stdout.contains("bo@example.com"));

    let bad_role = run(db.treeex(home.path()).args([
        "member",
        "add",
        "--workspace",
        "acme",
        "--email",
        "x@example.com",
        "--role",
        "root",
    ]));
    assert_eq!(bad_role.code, 2, "{bad_role:?}");
}

#[tokio::test]
async fn phone_numbers_are_listed_without_their_tokens() {
    let db = TestDb::new().await;
    let home = empty_home();
    ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "owner@example.com",
    ]));
    let phone_add = |id: &str| {
        vec![
            "phone".to_string(),
            "add".into(),
            "--workspace".into(),
            "acme".into(),
            "--phone-number-id".into(),
            id.into(),
            "--display-phone-number".into(),
            "+1 555 010 0000".into(),
            "--waba-id".into(),
            "200000000000001".into(),
            "--access-token".into(),
            "EAAG-very-secret-token".into(),
        ]
    };
    let added = ok(db
        .treeex(home.path())
        .args(phone_add("100000000000001"))
        .args(["--mps", "20", "--json"]));
    assert!(!added.stdout.contains("very-secret"), "{added:?}");
    let added = added.json();
    assert_eq!(added["phone_number_id"], "100000000000001");
    assert_eq!(added["mps"], 20);

    let listed =
        ok(db
            .treeex(home.path())
            .args(["phone", "list", "--workspace", "acme", "--json"]));
    assert!(!listed.stdout.contains("very-secret"));
    let listed = listed.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["waba_id"], "200000000000001");
    assert_eq!(listed[0]["display_phone_number"], "+1 555 010 0000");

    let token: String = sqlx::query_scalar("SELECT access_token FROM phone_numbers")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(token, "EAAG-very-secret-token");

    // A number connects to one workspace only: webhooks route by its id.
    ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "other",
        "--name",
        "Other",
        "--owner",
        "owner@example.com",
    ]));
    let mut twice = phone_add("100000000000001");
    twice[3] = "other".into();
    let twice = run(db.treeex(home.path()).args(twice));
    assert_eq!(twice.code, 1, "{twice:?}");
    assert!(
        twice
            .stderr
            .contains("100000000000001 is already connected"),
        "{twice:?}"
    );

    let bad = run(db.treeex(home.path()).args(phone_add("not-digits")));
    assert_eq!(bad.code, 2, "{bad:?}");
    let bad_mps = run(db
        .treeex(home.path())
        .args(phone_add("100000000000002"))
        .args(["--mps", "0"]));
    assert_eq!(bad_mps.code, 2, "{bad_mps:?}");
}

#[tokio::test]
async fn contacts_are_added_normalised_and_listed_by_tag() {
    let db = TestDb::new().await;
    let home = empty_home();
    ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "owner@example.com",
    ]));
    let added = ok(db.treeex(home.path()).args([
        "contact",
        "add",
        "--workspace",
        "acme",
        "--wa-id",
        "+1 (415) 555-0123",
        "--name",
        "Ana",
        "--tag",
        "VIP",
        "--tag",
        "lead",
        "--opted-in",
        "--json",
    ]))
    .json();
    assert_eq!(added["wa_id"], "14155550123");
    assert_eq!(added["opted_in"], true);
    assert_eq!(added["tags"], serde_json::json!(["lead", "vip"]));
    ok(db.treeex(home.path()).args([
        "contact",
        "add",
        "--workspace",
        "acme",
        "--wa-id",
        "14155550124",
        "--tag",
        "lead",
    ]));

    let again = run(db.treeex(home.path()).args([
        "contact",
        "add",
        "--workspace",
        "acme",
        "--wa-id",
        "14155550123",
    ]));
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(
        again.stderr,
        "error: contact 14155550123 already exists in this workspace\n"
    );

    let bad = run(db.treeex(home.path()).args([
        "contact",
        "add",
        "--workspace",
        "acme",
        "--wa-id",
        "call me",
    ]));
    assert_eq!(bad.code, 2, "{bad:?}");

    let wa_ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["wa_id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = ok(db
        .treeex(home.path())
        .args(["contact", "list", "--workspace", "acme", "--json"]))
    .json();
    assert_eq!(wa_ids(&all), ["14155550123", "14155550124"]);
    let vip = ok(db.treeex(home.path()).args([
        "contact",
        "list",
        "--workspace",
        "acme",
        "--tag",
        "vip",
        "--json",
    ]))
    .json();
    assert_eq!(wa_ids(&vip), ["14155550123"]);
    let none = ok(db.treeex(home.path()).args([
        "contact",
        "list",
        "--workspace",
        "acme",
        "--tag",
        "nobody",
        "--json",
    ]))
    .json();
    assert_eq!(none, serde_json::json!([]));
}

#[tokio::test]
async fn contact_list_pages_through_many_contacts() {
    let db = TestDb::new().await;
    let home = empty_home();
    ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "owner@example.com",
    ]));
    // More than one page (1000) of contacts, made in one statement.
    sqlx::query(
        "INSERT INTO contacts (id, workspace_id, wa_id) \
         SELECT gen_random_uuid(), w.id, (15550000000 + n)::text \
         FROM workspaces w, generate_series(1, 2500) AS n",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let all = ok(db
        .treeex(home.path())
        .args(["contact", "list", "--workspace", "acme", "--json"]))
    .json();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2500);
    assert_eq!(all[0]["wa_id"], "15550000001");
    assert_eq!(all[2499]["wa_id"], "15550002500");
    let table = ok(db
        .treeex(home.path())
        .args(["contact", "list", "--workspace", "acme"]));
    assert_eq!(
        table.stdout.lines().count(),
        2501,
        "one header and a line per contact"
    );
}

#[tokio::test]
async fn contact_import_reports_every_row_and_keeps_the_good_ones() {
    let db = TestDb::new().await;
    let home = empty_home();
    ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "owner@example.com",
    ]));
    ok(db.treeex(home.path()).args([
        "contact",
        "add",
        "--workspace",
        "acme",
        "--wa-id",
        "14155550100",
        "--name",
        "Old Name",
        "--tag",
        "existing",
        "--opted-in",
    ]));
    let csv = home.path().join("contacts.csv");
    let mut file = std::fs::File::create(&csv).unwrap();
    write!(
        file,
        "phone,name,tags,opted_in,city\n\
         +1 415 555 0101,Ana,vip;lead,yes,Lisbon\n\
         14155550100,New Name,vip,,Porto\n\
         12,Too Short,,no,\n\
         14155550101,Ana Twice,,yes,\n\
         14155550102,Bo,,maybe,\n\
         14155550103,Cy\n\
         14155550104,Di,,0,\n"
    )
    .unwrap();
    drop(file);

    let report = ok(db
        .treeex(home.path())
        .args(["contact", "import", "--workspace", "acme", "--json"])
        .arg(&csv))
    .json();
    assert_eq!(report["imported"], 2, "{report:#}");
    assert_eq!(report["updated"], 1);
    assert_eq!(report["rejected"], 4);
    let outcomes: Vec<(u64, &str)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (2, "imported"),
            (3, "updated"),
            (4, "rejected"),
            (5, "rejected"),
            (6, "rejected"),
            (7, "rejected"),
            (8, "imported")
        ]
    );
    let reasons: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert!(reasons[0].contains("7 to 15"), "{reasons:?}");
    assert_eq!(reasons[1], "duplicate of line 2 (same phone)");
    assert!(reasons[2].contains("maybe"), "{reasons:?}");
    assert!(
        reasons[3].contains("2 fields and the header has 5"),
        "{reasons:?}"
    );

    let (name, tags, opted_in, fields): (String, Vec<String>, bool, Value) = sqlx::query_as(
        "SELECT name, tags, opted_in, custom_fields FROM contacts WHERE wa_id = '14155550100'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(name, "New Name");
    assert_eq!(tags, ["existing", "vip"]);
    assert!(
        opted_in,
        "an empty opted_in keeps the consent the contact had"
    );
    assert_eq!(fields, serde_json::json!({"city": "Porto"}));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(count, 3);

    // The same file again: nothing new, the good rows update, the bad ones are rejected again.
    let again = ok(db
        .treeex(home.path())
        .args(["contact", "import", "--workspace", "acme"])
        .arg(&csv));
    assert!(again.stdout.contains("line 4: rejected (12):"), "{again:?}");
    assert!(
        again
            .stdout
            .ends_with("0 imported, 3 updated, 4 rejected\n"),
        "{again:?}"
    );
}

#[tokio::test]
async fn contact_import_without_a_phone_column_changes_nothing() {
    let db = TestDb::new().await;
    let home = empty_home();
    ok(db.treeex(home.path()).args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "owner@example.com",
    ]));
    let csv = home.path().join("contacts.csv");
    std::fs::write(&csv, "name,number\nAna,14155550101\n").unwrap();
    let failed = run(db
        .treeex(home.path())
        .args(["contact", "import", "--workspace", "acme"])
        .arg(&csv));
    assert_eq!(failed.code, 1, "{failed:?}");
    assert!(
        failed.stderr.starts_with("error: cannot import"),
        "{failed:?}"
    );
    assert!(failed.stderr.contains("no `phone` column"), "{failed:?}");
    let missing = run(db.treeex(home.path()).args([
        "contact",
        "import",
        "--workspace",
        "acme",
        "/nonexistent/file.csv",
    ]));
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(
        missing.stderr.contains("cannot open /nonexistent/file.csv"),
        "{missing:?}"
    );
}

#[tokio::test]
async fn migrate_applies_and_reports_against_an_external_url() {
    let db = TestDb::new().await;
    let home = empty_home();
    let migrated = ok(db.treeex(home.path()).arg("migrate"));
    assert!(migrated.stdout.contains("up to date"), "{migrated:?}");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(applied as usize, treeex::store::MIGRATOR.iter().count());
}

#[tokio::test]
async fn an_unknown_config_key_is_exit_2_naming_key_and_file() {
    let home = empty_home();
    let config = home.path().join("bad.toml");
    std::fs::write(
        &config,
        "[server]\nlisten = \"127.0.0.1:9000\"\nlisen = \"oops\"\n",
    )
    .unwrap();
    for command in [vec!["workspace", "list"], vec!["migrate"]] {
        let failed = run(common::treeex_command(home.path())
            .arg("--config")
            .arg(&config)
            .args(&command));
        assert_eq!(failed.code, 2, "{failed:?}");
        let first = failed.stderr.lines().next().unwrap();
        assert!(first.contains("`server.lisen`"), "{failed:?}");
        assert!(first.contains(&config.display().to_string()), "{failed:?}");
    }
}

#[tokio::test]
async fn a_config_named_by_the_environment_is_read() {
    let home = empty_home();
    let config = home.path().join("env.toml");
    std::fs::write(&config, "[database]\nmax_connections = \"ten\"\n").unwrap();
    let failed = run(common::treeex_command(home.path())
        .env("TREEEX_CONFIG", &config)
        .args(["workspace", "list"]));
    assert_eq!(failed.code, 2, "{failed:?}");
    assert!(
        failed.stderr.contains("`database.max_connections`"),
        "{failed:?}"
    );
    assert!(failed.stderr.contains("env.toml"), "{failed:?}");
}

#[tokio::test]
async fn a_database_that_is_down_is_exit_1_with_its_cause() {
    let home = empty_home();
    // A socket directory where no server listens.
    let failed = run(common::treeex_command(home.path())
        .env(
            "DATABASE_URL",
            format!(
                "postgres://treeex@localhost/treeex?host={}",
                home.path().display()
            ),
        )
        .args(["workspace", "list"]));
    assert_eq!(failed.code, 1, "{failed:?}");
    assert!(
        failed
            .stderr
            .starts_with("error: the database is unavailable"),
        "{failed:?}"
    );
    assert!(failed.stderr.contains("caused by:"), "{failed:?}");
    assert!(!failed.stderr.contains("panicked"), "{failed:?}");
}

#[tokio::test]
async fn no_command_without_a_terminal_points_to_help_and_help_works_everywhere() {
    let home = empty_home();
    // `treeex` alone opens the inbox, which needs a terminal: a script learns it at once.
    let bare = run(&mut common::treeex_command(home.path()));
    assert_eq!(bare.code, 2, "{bare:?}");
    assert!(bare.stderr.contains("needs a terminal"), "{bare:?}");
    assert!(bare.stderr.contains("treeex --help"), "{bare:?}");
    for command in [
        vec!["--help"],
        vec!["workspace", "create", "--help"],
        vec!["contact", "import", "--help"],
        vec!["phone", "add", "--help"],
    ] {
        let help = ok(common::treeex_command(home.path()).args(&command));
        assert!(help.stdout.contains("Usage: treeex"), "{help:?}");
    }
}

#[tokio::test]
async fn inbox_options_before_another_command_are_refused() {
    let home = empty_home();
    let refused = run(common::treeex_command(home.path()).args(["--workspace", "acme", "migrate"]));
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("belong to the inbox"),
        "{refused:?}"
    );
}
