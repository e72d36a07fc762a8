use super::*;
use secrecy::ExposeSecret;

fn paths(dir: &Path) -> Paths {
    Paths::new(dir.join("config"), dir.join("data"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn load_text(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "treeex.toml", text);
    Config::load(Some(&file), &Environment::default(), &paths(dir.path()))
}

fn invalid_key(error: ConfigError) -> (String, String) {
    match error {
        ConfigError::Invalid { key, message, .. } => (key, message),
        other => panic!("expected an invalid key, got {other:?}"),
    }
}

#[test]
fn no_file_means_the_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(None, &Environment::default(), &paths(dir.path())).unwrap();
    assert_eq!(config.source, Some(Source::Defaults));
    assert!(config.database.url.is_none());
    assert_eq!(config.database.max_connections, 10);
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.server.body_limit_bytes, 3_145_728);
    assert_eq!(config.whatsapp.graph_base_url, "https://graph.facebook.com");
    assert_eq!(config.whatsapp.api_version, "v23.0");
    assert_eq!(config.logging.level, "info");
    assert!(config.tui.listener && config.tui.bell);
    assert_eq!(config.tui.mark_read_after_ms, 1500);
    assert_eq!(config.ingest.stop_words, ["STOP", "UNSUBSCRIBE"]);
    assert_eq!(config.ingest.start_words, ["START"]);
    assert_eq!(config.webhook.archive_days, 30);
    assert_eq!(config.outbox.max_attempts, 5);
    assert_eq!(config.outbox.request_timeout_secs, 30);
    assert_eq!(config.outbox.max_in_flight, 256);
    let p = paths(dir.path());
    assert_eq!(config.log_dir(&p), dir.path().join("data/logs"));
    assert_eq!(
        config.media_store(&p),
        format!("file://{}", dir.path().join("data/media").display())
    );
}

#[test]
fn the_example_file_is_a_valid_configuration() {
    let text = include_str!("../../config.example.toml");
    let config = Config::parse(text, &Source::Defaults).unwrap();
    config.validate().unwrap();
}

#[test]
fn lookup_order_is_flag_then_environment_then_platform_file() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    write(
        &dir.path().join("config"),
        "config.toml",
        "[logging]\nlevel = \"warn\"\n",
    );
    let from_env = write(dir.path(), "env.toml", "[logging]\nlevel = \"debug\"\n");
    let from_flag = write(dir.path(), "flag.toml", "[logging]\nlevel = \"trace\"\n");
    let env = Environment {
        config: Some(from_env.clone()),
        ..Environment::default()
    };

    let platform = Config::load(None, &Environment::default(), &paths).unwrap();
    assert_eq!(platform.logging.level, "warn");
    assert_eq!(platform.source, Some(Source::File(paths.config_file())));
    let env_only = Config::load(None, &env, &paths).unwrap();
    assert_eq!(env_only.logging.level, "debug");
    let flag = Config::load(Some(&from_flag), &env, &paths).unwrap();
    assert_eq!(flag.logging.level, "trace");
}

#[test]
fn the_environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "treeex.toml",
        "[database]\nurl = \"postgres://file@localhost/file\"\n\
         [whatsapp]\napp_secret = \"from-file\"\nverify_token = \"from-file\"\n\
         [logging]\nlevel = \"info\"\n",
    );
    let env = Environment {
        database_url: Some("postgres://env@localhost/env".into()),
        app_secret: Some("env-secret".into()),
        verify_token: Some("env-token".into()),
        log: Some("treeex=debug".into()),
        ..Environment::default()
    };
    let config = Config::load(Some(&file), &env, &paths(dir.path())).unwrap();
    assert_eq!(
        config.database.url.unwrap().expose_secret(),
        "postgres://env@localhost/env"
    );
    assert_eq!(
        config.whatsapp.app_secret.unwrap().expose_secret(),
        "env-secret"
    );
    assert_eq!(
        config.whatsapp.verify_token.unwrap().expose_secret(),
        "env-token"
    );
    assert_eq!(config.logging.level, "treeex=debug");
}

#[test]
fn an_unknown_key_is_named_with_its_table_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "treeex.toml",
        "[server]\nlisten = \"127.0.0.1:1\"\nlisen = 1\n",
    );
    let error = Config::load(Some(&file), &Environment::default(), &paths(dir.path())).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("`server.lisen`"), "{text}");
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains("line 3"), "{text}");
}

#[test]
fn an_unknown_table_is_named() {
    let (key, _) = invalid_key(load_text("[servre]\nlisten = \"127.0.0.1:1\"\n").unwrap_err());
    assert_eq!(key, "servre");
}

#[test]
fn a_wrong_type_is_named() {
    let (key, message) =
        invalid_key(load_text("[database]\nmax_connections = \"ten\"\n").unwrap_err());
    assert_eq!(key, "database.max_connections");
    assert!(message.contains("invalid type"), "{message}");
    let (key, _) = invalid_key(load_text("[tui]\nbell = \"loud\"\n").unwrap_err());
    assert_eq!(key, "tui.bell");
}

#[test]
fn invalid_values_are_named() {
    for (text, expected) in [
        ("[server]\nlisten = \"localhost\"\n", "server.listen"),
        (
            "[server]\nbody_limit_bytes = 0\n",
            "server.body_limit_bytes",
        ),
        (
            "[database]\nmax_connections = 0\n",
            "database.max_connections",
        ),
        ("[database]\nurl = \"mysql://x\"\n", "database.url"),
        ("[user]\nemail = \"not-an-email\"\n", "user.email"),
        ("[whatsapp]\napi_version = \"23\"\n", "whatsapp.api_version"),
        (
            "[whatsapp]\ngraph_base_url = \"graph.facebook.com\"\n",
            "whatsapp.graph_base_url",
        ),
        ("[media]\nstore = \"ftp://x\"\n", "media.store"),
        ("[logging]\nlevel = \"info,=[\"\n", "logging.level"),
        ("[webhook]\narchive_days = 0\n", "webhook.archive_days"),
        ("[webhook]\narchive_days = -3\n", "webhook.archive_days"),
        ("[outbox]\nmax_in_flight = 0\n", "outbox.max_in_flight"),
        (
            "[ingest]\nstop_words = [\"STOP\", \" \"]\n",
            "ingest.stop_words",
        ),
        ("[whatsapp]\napp_secret = \"\"\n", "whatsapp.app_secret"),
        (
            "[whatsapp]\nverify_token = \" \"\n",
            "whatsapp.verify_token",
        ),
    ] {
        let error = load_text(text).expect_err(text);
        let (key, _) = invalid_key(error);
        assert_eq!(key, expected, "for {text:?}");
    }
}

#[test]
fn broken_toml_says_where() {
    let error = load_text("[server\nlisten = 1\n").unwrap_err();
    assert!(
        matches!(error, ConfigError::Syntax { line: Some(1), .. }),
        "{error:?}"
    );
}

#[test]
fn a_missing_explicit_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let error =
        Config::load(Some(&missing), &Environment::default(), &paths(dir.path())).unwrap_err();
    assert!(error.to_string().contains("missing.toml"), "{error}");
}

#[test]
fn secrets_never_print() {
    let config = load_text(
        "[database]\nurl = \"postgres://u:db-password@h/d\"\n\
         [whatsapp]\napp_secret = \"app-secret-value\"\nverify_token = \"verify-token-value\"\n",
    )
    .unwrap();
    let printed = format!("{config:?}");
    for secret in ["db-password", "app-secret-value", "verify-token-value"] {
        assert!(!printed.contains(secret), "{secret} printed in {printed}");
    }
}
