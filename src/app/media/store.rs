//! The media store: where treeex keeps media bytes, named by an object-store URL (`[media] store`:
//! `file://`, `s3://`, `az://`, `gs://`), through the `object_store` crate.
//!
//! A stored file is recorded by its URL, `<store URL>/<key>`, so a file can be read back as long
//! as `[media] store` still names the store it went to. Local files are written atomically and
//! synced. Cloud stores take their credentials from the environment, as each provider's tools do
//! (`AWS_*`, `AZURE_*`, `GOOGLE_*`); their TLS goes through treeex's own HTTP client.

use std::path::PathBuf;
use std::sync::Arc;

use nix::unistd::AccessFlags;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use reqwest::Url;

/// A media store, open. Cheap to clone.
#[derive(Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
    /// The store's URL without a trailing slash; stored files are `<base>/<key>`.
    base: String,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStore")
            .field("base", &self.base)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaStoreError {
    /// `[media] store` names no store treeex can open.
    #[error("[media] store `{url}` {reason}")]
    Config { url: String, reason: String },
    /// A file that is not (or no longer) in the store.
    #[error("`{0}` is not in the media store")]
    NotFound(String),
    /// A stored file's URL names another store than `[media] store` (it was changed since).
    #[error("`{url}` is not in the media store `{base}` ([media] store); it was stored elsewhere")]
    Elsewhere { url: String, base: String },
    /// The store failed (unreachable, refused, out of space).
    #[error("the media store could not {action} `{url}`")]
    Failed {
        action: &'static str,
        url: String,
        #[source]
        source: object_store::Error,
    },
}

impl MediaStoreError {
    /// `[media] store` = `url` cannot be used, for `reason`.
    fn config(url: &str, reason: impl Into<String>) -> Self {
        MediaStoreError::Config {
            url: url.to_string(),
            reason: reason.into(),
        }
    }

    /// True when the file is simply not there (as opposed to a store that failed).
    pub fn is_not_found(&self) -> bool {
        matches!(self, MediaStoreError::NotFound(_))
    }
}

impl MediaStore {
    /// Opens the store `url` names; a local directory is created when missing. Installs the TLS
    /// provider the cloud stores' HTTP client needs.
    pub fn open(url: &str) -> Result<MediaStore, MediaStoreError> {
        let config = |reason: String| MediaStoreError::config(url, reason);
        let parsed = Url::parse(url.trim()).map_err(|e| {
            config(format!(
                "is not a URL ({e}); write e.g. file:///var/lib/treeex/media"
            ))
        })?;
        let inner: Arc<dyn ObjectStore> = match parsed.scheme() {
            "file" => {
                let dir = local_dir(url, &parsed)?;
                std::fs::create_dir_all(&dir)
                    .map_err(|e| config(format!("cannot be created ({}): {e}", dir.display())))?;
                let local = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| config(format!("cannot be opened: {e}")))?
                    .with_fsync(true);
                Arc::new(local)
            }
            scheme @ ("s3" | "s3a" | "az" | "azure" | "abfs" | "abfss" | "adl" | "gs") => {
                crate::install_tls_provider();
                let prefix = parsed.path().trim_matches('/').to_string();
                let built = match scheme {
                    "gs" => object_store::gcp::GoogleCloudStorageBuilder::from_env()
                        .with_url(url.trim())
                        .build()
                        .map(|s| with_prefix(s, &prefix)),
                    "s3" | "s3a" => object_store::aws::AmazonS3Builder::from_env()
                        .with_url(url.trim())
                        .build()
                        .map(|s| with_prefix(s, &prefix)),
                    _ => object_store::azure::MicrosoftAzureBuilder::from_env()
                        .with_url(url.trim())
                        .build()
                        .map(|s| with_prefix(s, &prefix)),
                };
                built.map_err(|e| config(format!("cannot be opened: {e}")))?
            }
            other => {
                return Err(config(format!(
                    "has the scheme `{other}:`; treeex stores media at file://, s3://, az:// or gs:// URLs"
                )));
            }
        };
        let base = parsed.as_str().trim_end_matches('/').to_string();
        Ok(MediaStore { inner, base })
    }

    /// Whether the store `url` names can be used, changing nothing (for `treeex doctor`): a local
    /// directory is writable, or would be created under a writable one; a cloud store answers a
    /// listing with the credentials from the environment. Says which on success.
    pub async fn probe(url: &str) -> Result<String, MediaStoreError> {
        let dir = match Url::parse(url.trim()) {
            Ok(parsed) if parsed.scheme() == "file" => local_dir(url, &parsed)?,
            _ => {
                let store = MediaStore::open(url)?;
                // The top level holds one prefix per workspace: a short answer.
                if let Err(source) = store.inner.list_with_delimiter(None).await {
                    return Err(MediaStoreError::Failed {
                        action: "list",
                        url: store.base,
                        source,
                    });
                }
                return Ok(format!("{} answers", store.base));
            }
        };
        let unusable = |reason: String| MediaStoreError::config(url, reason);
        let existing = dir.ancestors().find(|a| a.exists()).unwrap_or(&dir);
        if !existing.is_dir() {
            return Err(unusable(format!(
                "cannot be a directory: {} is a file",
                existing.display()
            )));
        }
        nix::unistd::access(existing, AccessFlags::W_OK | AccessFlags::X_OK)
            .map_err(|e| unusable(format!("cannot be written: {}: {e}", existing.display())))?;
        Ok(if existing == dir {
            format!("{} (writable)", dir.display())
        } else {
            format!(
                "{} (created on first use, under the writable {})",
                dir.display(),
                existing.display()
            )
        })
    }

    /// The store's URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The URL a file at `key` (segments joined by `/`) has in this store.
    pub fn url_of(&self, key: &[&str]) -> String {
        let key: Key = key.iter().copied().collect();
        format!("{}/{}", self.base, key)
    }

    /// Stores `bytes` at `key` (replacing what was there) and returns the file's URL.
    pub async fn put(&self, key: &[&str], bytes: Vec<u8>) -> Result<String, MediaStoreError> {
        let location: Key = key.iter().copied().collect();
        let url = format!("{}/{}", self.base, location);
        self.inner
            .put(&location, PutPayload::from(bytes))
            .await
            .map_err(|source| MediaStoreError::Failed {
                action: "store",
                url: url.clone(),
                source,
            })?;
        Ok(url)
    }

    /// The bytes of a stored file.
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, MediaStoreError> {
        let location = self.key_of(url)?;
        let failed = |source| match source {
            object_store::Error::NotFound { .. } => MediaStoreError::NotFound(url.to_string()),
            source => MediaStoreError::Failed {
                action: "read",
                url: url.to_string(),
                source,
            },
        };
        let bytes = self
            .inner
            .get(&location)
            .await
            .map_err(failed)?
            .bytes()
            .await
            .map_err(failed)?;
        Ok(Vec::from(bytes))
    }

    /// Deletes a stored file; one that is not there is fine.
    pub async fn delete(&self, url: &str) -> Result<(), MediaStoreError> {
        let location = self.key_of(url)?;
        match self.inner.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(MediaStoreError::Failed {
                action: "delete",
                url: url.to_string(),
                source,
            }),
        }
    }

    fn key_of(&self, url: &str) -> Result<Key, MediaStoreError> {
        let elsewhere = || MediaStoreError::Elsewhere {
            url: url.to_string(),
            base: self.base.clone(),
        };
        let key = url
            .strip_prefix(&self.base)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|key| !key.is_empty())
            .ok_or_else(elsewhere)?;
        Key::parse(key).map_err(|_| elsewhere())
    }
}

/// The store, under `prefix` when the URL has a path.
fn with_prefix<T: ObjectStore>(store: T, prefix: &str) -> Arc<dyn ObjectStore> {
    if prefix.is_empty() {
        Arc::new(store)
    } else {
        Arc::new(PrefixStore::new(store, prefix))
    }
}

/// The directory a `file://` store URL names; only the absolute forms are taken.
fn local_dir(url: &str, parsed: &Url) -> Result<PathBuf, MediaStoreError> {
    let config = |reason: &str| MediaStoreError::config(url, reason);
    // `file:relative` parses as `file:///relative`: only the full form is taken.
    let written = url.trim();
    let absolute = written
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("file:///"))
        || written
            .get(..17)
            .is_some_and(|s| s.eq_ignore_ascii_case("file://localhost/"));
    if !absolute {
        return Err(config(
            "is not an absolute local directory; write file:///absolute/path",
        ));
    }
    parsed
        .to_file_path()
        .map_err(|()| config("is not an absolute local path (file:///absolute/path)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_probe_says_whether_a_local_store_is_usable_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let here = format!("file://{}", dir.path().display());
        let said = MediaStore::probe(&here).await.unwrap();
        assert!(said.ends_with("(writable)"), "{said}");

        let later = dir.path().join("a/b");
        let said = MediaStore::probe(&format!("file://{}", later.display()))
            .await
            .unwrap();
        assert!(said.contains("created on first use"), "{said}");
        assert!(!dir.path().join("a").exists(), "the probe created it");

        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let refused = MediaStore::probe(&format!("file://{}/media", file.display()))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("is a file"), "{refused}");
        let relative = MediaStore::probe("file:media").await.unwrap_err();
        assert!(relative.to_string().contains("absolute"), "{relative}");
    }

    #[tokio::test]
    async fn a_file_store_keeps_bytes_under_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}/media store", dir.path().display());
        let store = MediaStore::open(&url).unwrap();
        let stored = store
            .put(&["ws", "msg", "1.jpg"], b"bytes".to_vec())
            .await
            .unwrap();
        assert!(stored.ends_with("/ws/msg/1.jpg"), "{stored}");
        assert_eq!(
            std::fs::read(dir.path().join("media store/ws/msg/1.jpg")).unwrap(),
            b"bytes"
        );
        assert_eq!(store.get(&stored).await.unwrap(), b"bytes");
        store.delete(&stored).await.unwrap();
        assert!(store.get(&stored).await.unwrap_err().is_not_found());
        store.delete(&stored).await.unwrap();
        let other = store.get("file:///elsewhere/x.jpg").await.unwrap_err();
        assert!(
            matches!(other, MediaStoreError::Elsewhere { .. }),
            "{other}"
        );
    }

    #[test]
    fn unknown_schemes_are_refused_naming_the_key() {
        for url in [
            "ftp://host/media",
            "not a url",
            "file://host/media",
            "file:relative",
        ] {
            let error = MediaStore::open(url).unwrap_err().to_string();
            assert!(error.starts_with("[media] store `"), "{error}");
        }
    }

    #[test]
    fn cloud_stores_open_without_touching_the_network() {
        for url in [
            "s3://bucket/treeex/media",
            "gs://bucket/media",
            "az://container@account.blob.core.windows.net/media",
        ] {
            let store = MediaStore::open(url).unwrap();
            assert_eq!(store.url(), url);
            assert_eq!(store.url_of(&["a", "b.jpg"]), format!("{url}/a/b.jpg"));
        }
    }
}
