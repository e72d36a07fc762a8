//! Media types and sizes of spec §9, and the media answers as Meta writes them.

use super::*;
use serde_json::json;

#[test]
fn each_mime_type_names_its_kind() {
    let cases = [
        ("image/jpeg", MediaKind::Image),
        ("image/png", MediaKind::Image),
        ("image/webp", MediaKind::Sticker),
        ("audio/aac", MediaKind::Audio),
        ("audio/amr", MediaKind::Audio),
        ("audio/mpeg", MediaKind::Audio),
        ("audio/mp4", MediaKind::Audio),
        ("audio/ogg", MediaKind::Audio),
        ("video/mp4", MediaKind::Video),
        ("video/3gpp", MediaKind::Video),
        ("text/plain", MediaKind::Document),
        ("application/pdf", MediaKind::Document),
        ("application/msword", MediaKind::Document),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            MediaKind::Document,
        ),
        ("application/vnd.ms-excel", MediaKind::Document),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            MediaKind::Document,
        ),
        ("application/vnd.ms-powerpoint", MediaKind::Document),
        (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            MediaKind::Document,
        ),
    ];
    for (mime, kind) in cases {
        assert_eq!(media_kind_for_mime(mime), Some(kind), "{mime}");
    }
}

#[test]
fn mime_parameters_and_case_do_not_matter() {
    assert_eq!(
        media_kind_for_mime("audio/ogg; codecs=opus"),
        Some(MediaKind::Audio)
    );
    assert_eq!(media_kind_for_mime(" Image/JPEG "), Some(MediaKind::Image));
    assert_eq!(
        check_media(MediaKind::Audio, "audio/OGG; codecs=opus", 10),
        Ok(())
    );
}

#[test]
fn unknown_types_have_no_kind() {
    for mime in [
        "image/gif",
        "application/zip",
        "video/quicktime",
        "",
        "application/octet-stream",
    ] {
        assert_eq!(media_kind_for_mime(mime), None, "{mime}");
    }
}

#[test]
fn each_kind_has_its_size_cap() {
    let cases = [
        (
            MediaKind::Image,
            "image/jpeg",
            5_000_000,
            "an image file is at most 5 MB",
        ),
        (
            MediaKind::Audio,
            "audio/mpeg",
            16_000_000,
            "an audio file is at most 16 MB",
        ),
        (
            MediaKind::Video,
            "video/mp4",
            16_000_000,
            "a video file is at most 16 MB",
        ),
        (
            MediaKind::Document,
            "application/pdf",
            100_000_000,
            "a document file is at most 100 MB",
        ),
        (
            MediaKind::Sticker,
            "image/webp",
            500_000,
            "a sticker file is at most 500 KB",
        ),
    ];
    for (kind, mime, max, says) in cases {
        assert_eq!(check_media(kind, mime, max), Ok(()), "{kind} at its cap");
        let error = check_media(kind, mime, max + 1).unwrap_err();
        assert!(error.message.contains(says), "{}", error.message);
        assert!(
            error.message.contains(&format!("this one has {}", max + 1)),
            "{}",
            error.message
        );
        assert_eq!(max_bytes(kind), max);
    }
}

#[test]
fn a_static_sticker_is_held_to_100_kb() {
    assert_eq!(check_sticker(100_000, false), Ok(()));
    let error = check_sticker(100_001, false).unwrap_err();
    assert!(
        error
            .message
            .contains("a static sticker file is at most 100 KB"),
        "{}",
        error.message
    );
    assert_eq!(check_sticker(500_000, true), Ok(()));
    assert!(check_sticker(500_001, true).is_err());
}

#[test]
fn a_type_the_kind_does_not_take_is_refused() {
    let error = check_media(MediaKind::Image, "image/gif", 10).unwrap_err();
    assert_eq!(
        error.message,
        "an image file is one of image/jpeg, image/png (this one is `image/gif`)"
    );
    assert!(check_media(MediaKind::Image, "image/webp", 10).is_err());
    assert!(check_media(MediaKind::Sticker, "image/png", 10).is_err());
    assert!(check_media(MediaKind::Document, "application/zip", 10).is_err());
}

#[test]
fn an_empty_file_is_refused() {
    let error = check_media(MediaKind::Image, "image/png", 0).unwrap_err();
    assert_eq!(error.message, "a media file cannot be empty");
}

#[test]
fn the_spec_media_answer_is_read() {
    let answer = json!({ "messaging_product": "whatsapp",
      "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1750091300&hash=ATu",
      "mime_type": "image/jpeg", "sha256": "73298ec14751f0c3b1b4a2f52f4fb031db3892ff5d2b", "file_size": 61901,
      "id": "1037543291543636" });
    let info: MediaInfo = serde_json::from_value(answer).unwrap();
    assert_eq!(
        info,
        MediaInfo {
            id: "1037543291543636".into(),
            url: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1750091300&hash=ATu".into(),
            mime_type: Some("image/jpeg".into()),
            sha256: Some("73298ec14751f0c3b1b4a2f52f4fb031db3892ff5d2b".into()),
            file_size: Some(61901),
        }
    );
}

#[test]
fn file_size_may_be_a_string_a_number_or_missing() {
    let read = |size: Value| -> Result<MediaInfo, serde_json::Error> {
        serde_json::from_value(json!({ "url": "https://x/y", "id": "1", "file_size": size }))
    };
    assert_eq!(read(json!("61901")).unwrap().file_size, Some(61901));
    assert_eq!(read(json!(61901)).unwrap().file_size, Some(61901));
    assert_eq!(read(json!(null)).unwrap().file_size, None);
    assert_eq!(read(json!("")).unwrap().file_size, None);
    assert!(read(json!("big")).is_err());
    assert!(read(json!(-1)).is_err());
    let bare: MediaInfo = serde_json::from_value(json!({ "url": "https://x/y" })).unwrap();
    assert_eq!(bare.file_size, None);
    assert_eq!(bare.id, "");
}

#[test]
fn a_numeric_media_id_is_read_as_text() {
    let info: MediaInfo =
        serde_json::from_value(json!({ "url": "https://x/y", "id": 1037543291543636_u64 }))
            .unwrap();
    assert_eq!(info.id, "1037543291543636");
    let uploaded: Uploaded = serde_json::from_value(json!({ "id": "1037543291543636" })).unwrap();
    assert_eq!(uploaded.id, "1037543291543636");
}

#[test]
fn a_download_prints_its_size_not_its_bytes() {
    let downloaded = Downloaded {
        bytes: vec![1, 2, 3],
        content_type: Some("image/jpeg".into()),
    };
    assert_eq!(
        format!("{downloaded:?}"),
        r#"Downloaded { bytes: 3 bytes, content_type: Some("image/jpeg") }"#
    );
}
