//! The campaign state machine: DRAFT → SCHEDULED → RUNNING ⇄ PAUSED → COMPLETED, and CANCELLED
//! from any state that is not finished. Every change of a campaign's status goes through
//! [`CampaignStatus::apply`]; an illegal move is refused with a sentence naming both states.

use serde_json::{Map, Value};

use super::{InvalidValue, Tag};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, sqlx::Type,
)]
#[sqlx(type_name = "campaign_status", rename_all = "UPPERCASE")]
#[serde(rename_all = "UPPERCASE")]
pub enum CampaignStatus {
    Draft,
    Scheduled,
    Running,
    Paused,
    Completed,
    Cancelled,
}

/// What moves a campaign: a supervisor's command, or the runner's own steps (`Due`, `Finish`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Move {
    /// Start at a later time.
    Schedule,
    /// Start now (a draft or a scheduled campaign).
    Start,
    /// A scheduled campaign's time came.
    Due,
    Pause,
    Resume,
    Cancel,
    /// Send the failed recipients again: a finished campaign runs again, a running or paused
    /// one stays as it is.
    RetryFailed,
    /// Every recipient is final.
    Finish,
    /// A scheduled campaign that could not start when due waits as a draft.
    Unschedule,
}

impl Move {
    /// The verb, as a sentence uses it.
    pub fn verb(self) -> &'static str {
        match self {
            Move::Schedule => "schedule",
            Move::Start => "start",
            Move::Due => "start on schedule",
            Move::Pause => "pause",
            Move::Resume => "resume",
            Move::Cancel => "cancel",
            Move::RetryFailed => "retry the failed recipients of",
            Move::Finish => "complete",
            Move::Unschedule => "unschedule",
        }
    }

    /// Every move, for tests and help.
    pub const ALL: [Move; 9] = [
        Move::Schedule,
        Move::Start,
        Move::Due,
        Move::Pause,
        Move::Resume,
        Move::Cancel,
        Move::RetryFailed,
        Move::Finish,
        Move::Unschedule,
    ];

    /// Moves a supervisor makes (only OWNER and ADMIN may); the others are the runner's.
    pub fn is_control(self) -> bool {
        !matches!(
            self,
            Move::Due | Move::Finish | Move::Schedule | Move::Unschedule
        )
    }
}

/// A move the campaign's status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a {from} campaign: {}", .attempted.verb(), allowed_from(*.attempted))]
pub struct IllegalMove {
    pub from: CampaignStatus,
    pub attempted: Move,
}

/// The sentence after the colon: where the move goes, and from which states.
fn allowed_from(attempted: Move) -> String {
    let from: Vec<&str> = CampaignStatus::ALL
        .into_iter()
        .filter(|s| s.apply(attempted).is_ok())
        .map(CampaignStatus::as_str)
        .collect();
    let to = CampaignStatus::ALL
        .into_iter()
        .find_map(|s| s.apply(attempted).ok())
        .map_or("", CampaignStatus::as_str);
    let from = match from.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    };
    match attempted {
        Move::RetryFailed => format!("only a {from} campaign has failed recipients to send again"),
        _ => format!("only a {from} campaign can become {to}"),
    }
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 6] = [
        CampaignStatus::Draft,
        CampaignStatus::Scheduled,
        CampaignStatus::Running,
        CampaignStatus::Paused,
        CampaignStatus::Completed,
        CampaignStatus::Cancelled,
    ];

    /// The status after `attempted`, or why it is not allowed.
    pub fn apply(self, attempted: Move) -> Result<CampaignStatus, IllegalMove> {
        use CampaignStatus::*;
        let next = match (self, attempted) {
            (Draft, Move::Schedule) => Some(Scheduled),
            (Draft | Scheduled, Move::Start) => Some(Running),
            (Scheduled, Move::Due) => Some(Running),
            (Scheduled, Move::Unschedule) => Some(Draft),
            (Running, Move::Pause) => Some(Paused),
            (Paused, Move::Resume) => Some(Running),
            (Draft | Scheduled | Running | Paused, Move::Cancel) => Some(Cancelled),
            (Running | Paused, Move::RetryFailed) => Some(self),
            (Completed, Move::RetryFailed) => Some(Running),
            (Running, Move::Finish) => Some(Completed),
            _ => None,
        };
        next.ok_or(IllegalMove {
            from: self,
            attempted,
        })
    }

    /// COMPLETED and CANCELLED: nothing more is sent on its own.
    pub fn is_finished(self) -> bool {
        matches!(self, CampaignStatus::Completed | CampaignStatus::Cancelled)
    }

    /// Its audience is fixed: the recipients were snapshotted when it first ran.
    pub fn has_started(self) -> bool {
        !matches!(self, CampaignStatus::Draft | CampaignStatus::Scheduled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "DRAFT",
            CampaignStatus::Scheduled => "SCHEDULED",
            CampaignStatus::Running => "RUNNING",
            CampaignStatus::Paused => "PAUSED",
            CampaignStatus::Completed => "COMPLETED",
            CampaignStatus::Cancelled => "CANCELLED",
        }
    }
}

impl std::fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CampaignStatus {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CampaignStatus::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                InvalidValue(format!(
                    "`{s}` is not a campaign status; use DRAFT, SCHEDULED, RUNNING, PAUSED, COMPLETED or CANCELLED"
                ))
            })
    }
}

/// Who a campaign goes to: contacts with any of `any` (all contacts when empty), all of `all`
/// and none of `none`. Consent is not part of it: it is checked by the rule of the template's
/// category (see [`needs_opt_in`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Audience {
    #[serde(default)]
    pub any: Vec<String>,
    #[serde(default)]
    pub all: Vec<String>,
    #[serde(default)]
    pub none: Vec<String>,
}

impl Audience {
    pub fn new(any: &[Tag], all: &[Tag], none: &[Tag]) -> Self {
        let names = |tags: &[Tag]| tags.iter().map(|t| t.as_str().to_string()).collect();
        Audience {
            any: names(any),
            all: names(all),
            none: names(none),
        }
    }

    /// In words, for lists and refusals: "tagged vip or promo, not churned".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.any.is_empty() {
            parts.push(format!("tagged {}", self.any.join(" or ")));
        }
        if !self.all.is_empty() {
            parts.push(format!("tagged {}", self.all.join(" and ")));
        }
        if !self.none.is_empty() {
            parts.push(format!("not tagged {}", self.none.join(" or ")));
        }
        if parts.is_empty() {
            "every contact".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Whether a campaign's recipients must have opted in: always for MARKETING templates; for
/// UTILITY and AUTHENTICATION too unless the workspace's `campaign_opt_in` setting is
/// `marketing` (only marketing needs consent there).
pub fn needs_opt_in(category: &str, setting: Option<&str>) -> bool {
    category.eq_ignore_ascii_case("MARKETING") || setting != Some("marketing")
}

/// One template variable's value in a campaign: a literal, or a field of each contact (`{name}`,
/// `{wa_id}`, `{<custom field>}`), with an optional fallback after `|` for contacts without it
/// (`{name|there}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Literal(String),
    Field {
        name: String,
        fallback: Option<String>,
    },
}

/// What a contact offers to [`Param::render`].
#[derive(Debug, Clone, Copy)]
pub struct ContactFields<'a> {
    /// The name the business gave, else the profile name.
    pub name: Option<&'a str>,
    pub wa_id: &'a str,
    pub custom_fields: &'a Map<String, Value>,
}

impl Param {
    /// `{field}` or `{field|fallback}` is a field; anything else (`{{` escapes a brace) a literal.
    pub fn parse(raw: &str) -> Result<Param, InvalidValue> {
        let Some(inner) = raw
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .filter(|inner| !inner.starts_with('{'))
        else {
            return Ok(Param::Literal(raw.replace("{{", "{").replace("}}", "}")));
        };
        let (name, fallback) = match inner.split_once('|') {
            Some((name, fallback)) => (name.trim(), Some(fallback.to_string())),
            None => (inner.trim(), None),
        };
        if name.is_empty() || name.contains(['{', '}']) {
            return Err(InvalidValue(format!(
                "`{raw}` is not a parameter: use a literal, or {{name}}, {{wa_id}} or {{<custom field>}}"
            )));
        }
        Ok(Param::Field {
            name: name.to_string(),
            fallback,
        })
    }

    /// The value for one contact, or why there is none ("has no `city`").
    pub fn render(&self, contact: &ContactFields<'_>) -> Result<String, String> {
        let (name, fallback) = match self {
            Param::Literal(text) => return Ok(text.clone()),
            Param::Field { name, fallback } => (name, fallback),
        };
        let found = match name.as_str() {
            "name" => contact.name.map(str::to_string),
            "wa_id" => Some(contact.wa_id.to_string()),
            field => match contact.custom_fields.get(field) {
                Some(Value::String(text)) => Some(text.clone()),
                Some(Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            },
        };
        found
            .filter(|value| !value.trim().is_empty())
            .or_else(|| fallback.clone())
            .ok_or_else(|| format!("the contact has no `{name}` for the template"))
    }

    /// As written on the command line.
    pub fn source(&self) -> String {
        match self {
            Param::Literal(text) if text.starts_with('{') => format!("{{{text}"),
            Param::Literal(text) => text.clone(),
            Param::Field {
                name,
                fallback: Some(fallback),
            } => format!("{{{name}|{fallback}}}"),
            Param::Field {
                name,
                fallback: None,
            } => format!("{{{name}}}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignStatus::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path_runs_draft_to_completed() {
        let status = Draft.apply(Move::Schedule).unwrap();
        assert_eq!(status, Scheduled);
        let status = status.apply(Move::Due).unwrap();
        assert_eq!(status, Running);
        let status = status.apply(Move::Pause).unwrap();
        assert_eq!(status, Paused);
        let status = status.apply(Move::Resume).unwrap();
        assert_eq!(status, Running);
        assert_eq!(status.apply(Move::Finish).unwrap(), Completed);
    }

    #[test]
    fn a_refusal_names_both_states() {
        let refused = Draft.apply(Move::Pause).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "cannot pause a DRAFT campaign: only a RUNNING campaign can become PAUSED"
        );
        let refused = Completed.apply(Move::Cancel).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "cannot cancel a COMPLETED campaign: only a DRAFT, SCHEDULED, RUNNING or PAUSED campaign can become CANCELLED"
        );
        let refused = Draft.apply(Move::RetryFailed).unwrap_err();
        assert!(refused.to_string().contains("DRAFT"), "{refused}");
        assert!(refused.to_string().contains("RUNNING, PAUSED or COMPLETED"));
    }

    #[test]
    fn retry_failed_runs_a_completed_campaign_again() {
        assert_eq!(Completed.apply(Move::RetryFailed), Ok(Running));
        assert_eq!(Paused.apply(Move::RetryFailed), Ok(Paused));
        assert!(Cancelled.apply(Move::RetryFailed).is_err());
    }

    #[test]
    fn parameters_are_literals_or_contact_fields() {
        let fields: Map<String, Value> =
            serde_json::from_str(r#"{"city": "Lisboa", "orders": 3, "empty": ""}"#).unwrap();
        let ana = ContactFields {
            name: Some("Ana"),
            wa_id: "351910000001",
            custom_fields: &fields,
        };
        let nameless = ContactFields { name: None, ..ana };
        let render =
            |raw: &str, contact: &ContactFields<'_>| Param::parse(raw).unwrap().render(contact);
        assert_eq!(render("{name}", &ana).unwrap(), "Ana");
        assert_eq!(render("{wa_id}", &ana).unwrap(), "351910000001");
        assert_eq!(render("{city}", &ana).unwrap(), "Lisboa");
        assert_eq!(render("{orders}", &ana).unwrap(), "3");
        assert_eq!(render("SPRING25", &ana).unwrap(), "SPRING25");
        assert_eq!(render("{{literal}}", &ana).unwrap(), "{literal}");
        assert_eq!(render("{name|there}", &nameless).unwrap(), "there");
        assert_eq!(
            render("{name}", &nameless).unwrap_err(),
            "the contact has no `name` for the template"
        );
        assert!(render("{empty}", &ana).is_err());
        assert!(Param::parse("{}").is_err());
        for raw in ["{name}", "{name|there}", "plain", "{{braces}}"] {
            let param = Param::parse(raw).unwrap();
            assert_eq!(Param::parse(&param.source()).unwrap(), param, "{raw}");
        }
    }

    #[test]
    fn consent_is_needed_for_marketing_always_and_for_the_rest_by_default() {
        assert!(needs_opt_in("MARKETING", None));
        assert!(needs_opt_in("MARKETING", Some("marketing")));
        assert!(needs_opt_in("UTILITY", None));
        assert!(!needs_opt_in("UTILITY", Some("marketing")));
        assert!(!needs_opt_in("AUTHENTICATION", Some("marketing")));
    }

    #[test]
    fn an_audience_says_who_it_is() {
        let tag = |t: &str| Tag::parse(t).unwrap();
        let audience = Audience::new(&[tag("vip"), tag("promo")], &[], &[tag("churned")]);
        assert_eq!(
            audience.describe(),
            "tagged vip or promo, not tagged churned"
        );
        assert_eq!(Audience::default().describe(), "every contact");
    }

    #[test]
    fn statuses_parse_in_any_case() {
        assert_eq!("paused".parse::<CampaignStatus>(), Ok(Paused));
        assert!("done".parse::<CampaignStatus>().is_err());
    }

    fn status() -> impl Strategy<Value = CampaignStatus> {
        proptest::sample::select(CampaignStatus::ALL.to_vec())
    }

    fn a_move() -> impl Strategy<Value = Move> {
        proptest::sample::select(Move::ALL.to_vec())
    }

    proptest! {
        /// Every (state, move) pair: allowed moves land where the diagram says, refused ones
        /// name the state they were refused in.
        #[test]
        fn every_transition_follows_the_diagram(from in status(), attempted in a_move()) {
            match from.apply(attempted) {
                Ok(to) => {
                    prop_assert!(!from.is_finished() || attempted == Move::RetryFailed);
                    match attempted {
                        Move::Cancel => prop_assert_eq!(to, Cancelled),
                        Move::Pause => prop_assert_eq!((from, to), (Running, Paused)),
                        Move::Resume => prop_assert_eq!((from, to), (Paused, Running)),
                        Move::Finish => prop_assert_eq!((from, to), (Running, Completed)),
                        Move::Start | Move::Due => prop_assert_eq!(to, Running),
                        Move::Schedule => prop_assert_eq!((from, to), (Draft, Scheduled)),
                        Move::Unschedule => prop_assert_eq!((from, to), (Scheduled, Draft)),
                        Move::RetryFailed => prop_assert!(from.has_started() && to.has_started()),
                    }
                }
                Err(refused) => {
                    prop_assert_eq!(refused.from, from);
                    prop_assert!(refused.to_string().contains(from.as_str()));
                }
            }
        }

        /// Any sequence of moves from DRAFT: once CANCELLED nothing moves it again, and no
        /// sequence reaches RUNNING without a start.
        #[test]
        fn cancelled_is_the_end(moves in proptest::collection::vec(a_move(), 0..20)) {
            let mut status = Draft;
            let mut started = false;
            for attempted in moves {
                if let Ok(next) = status.apply(attempted) {
                    if status == Cancelled {
                        prop_assert!(false, "CANCELLED moved to {next}");
                    }
                    started |= matches!(attempted, Move::Start | Move::Due);
                    status = next;
                }
                if status.has_started() && status != Cancelled {
                    prop_assert!(started);
                }
            }
        }
    }
}
