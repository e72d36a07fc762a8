//! What the demo workspace holds, as data: its team, its customers (in many languages and
//! scripts), the conversations they had, and the two templates it adds to Meta's three.

use serde_json::{Value, json};

/// The workspace.
pub const SLUG: &str = "acme-demo";
pub const NAME: &str = "Acme Demo";

/// The demo user (OWNER) and the two agents: email, name.
pub const OWNER: (&str, &str) = ("demo@acme.example", "Alex Morgan");
pub const AGENTS: [(&str, &str); 2] = [
    ("sam@acme.example", "Sam Rivera"),
    ("priya@acme.example", "Priya Nair"),
];

/// The business number.
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const DISPLAY_PHONE_NUMBER: &str = "+1 555 010 4242";
pub const WABA_ID: &str = "102290129340398";
/// The simulator accepts any token but one starting with `invalid`.
pub const ACCESS_TOKEN: &str = "demo-access-token";
/// One send a second: the running campaign advances for minutes, not milliseconds.
pub const MPS: i32 = 1;

/// A customer the inbox has a conversation with: name, WhatsApp number, script.
pub struct Person {
    pub name: &'static str,
    pub wa_id: &'static str,
    pub script: usize,
    pub tags: &'static [&'static str],
}

/// Who says a line of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Customer,
    Agent,
}

use Who::{Agent, Customer};

/// Conversations, one per language; `{first}` is the customer's first name.
pub const SCRIPTS: &[&[(Who, &str)]] = &[
    // 0 English
    &[
        (
            Customer,
            "Hi! I ordered the linen shirt on Monday, any news? 🙂",
        ),
        (
            Agent,
            "Hi {first}! It left our warehouse this morning, tracking number AC-48213.",
        ),
        (Customer, "Great, thanks!"),
        (Customer, "Could I still change the size to M?"),
    ],
    // 1 Portuguese
    &[
        (Customer, "Olá! Vocês entregam em Lisboa no sábado?"),
        (
            Agent,
            "Olá {first}! Sim, entregamos aos sábados entre as 9h e as 13h.",
        ),
        (Customer, "Perfeito, obrigado! 😊"),
    ],
    // 2 Spanish
    &[
        (Customer, "¿Tienen envío gratis a Madrid?"),
        (Agent, "¡Hola {first}! Sí, en pedidos a partir de 40 €."),
        (Customer, "¡Genial! ¿Y cuánto tarda en llegar?"),
    ],
    // 3 French
    &[
        (
            Customer,
            "Bonjour, est-ce que la veste existe en taille S ?",
        ),
        (
            Agent,
            "Bonjour {first} ! Oui, elle est en stock en bleu marine et en écru.",
        ),
        (Customer, "Super, je passe la commande. Merci beaucoup !"),
        (Agent, "Avec plaisir ✨"),
    ],
    // 4 German
    &[
        (Customer, "Hallo, wann kommt meine Bestellung an?"),
        (Agent, "Hallo {first}, voraussichtlich am Donnerstag."),
        (
            Customer,
            "Danke schön! Können Sie auch an eine Packstation liefern?",
        ),
    ],
    // 5 Arabic
    &[
        (Customer, "مرحبا، هل الطلب رقم 4521 في الطريق؟"),
        (Agent, "أهلاً {first}! نعم، سيصل غداً إن شاء الله."),
        (Customer, "شكراً جزيلاً 🌹"),
    ],
    // 6 Hebrew
    &[
        (Customer, "שלום, יש לכם סניף בתל אביב?"),
        (Agent, "שלום {first}! כן, ברחוב דיזנגוף 50."),
        (Customer, "תודה רבה!"),
    ],
    // 7 Korean
    &[
        (Customer, "안녕하세요! 이 코트 파란색도 있나요?"),
        (Agent, "안녕하세요 {first}님! 네, 모든 사이즈 있습니다."),
        (Customer, "감사합니다 🙏"),
    ],
    // 8 Japanese
    &[
        (Customer, "こんにちは！注文の配送状況を教えてください。"),
        (Agent, "{first}様、本日発送いたしました📦"),
        (Customer, "ありがとうございます！"),
    ],
    // 9 Chinese
    &[
        (Customer, "你好，请问这件外套还有黑色的吗？"),
        (Agent, "{first}你好！黑色还有 M 和 L 码。"),
        (Customer, "好的，我要一件 M 码，谢谢！"),
    ],
    // 10 Turkish
    &[
        (Customer, "Merhaba, siparişim ne zaman gelir?"),
        (Agent, "Merhaba {first}! Yarın kargoya verilecek."),
        (Customer, "Teşekkürler 😊"),
    ],
    // 11 Italian
    &[
        (Customer, "Ciao! Posso cambiare l'indirizzo di consegna?"),
        (Agent, "Ciao {first}, certo: qual è il nuovo indirizzo?"),
        (Customer, "Via Roma 12, Milano. Grazie mille!"),
    ],
    // 12 Russian
    &[
        (Customer, "Здравствуйте! Можно оплатить при получении?"),
        (Agent, "Здравствуйте, {first}! Да, картой или наличными."),
        (Customer, "Отлично, спасибо!"),
    ],
    // 13 Swahili
    &[
        (Customer, "Habari! Mna duka Nairobi?"),
        (Agent, "Habari {first}! Ndiyo, tuko Westlands."),
        (Customer, "Asante sana!"),
    ],
    // 14 English, a damaged parcel
    &[
        (Customer, "My parcel arrived damaged 😕 the box was crushed"),
        (
            Agent,
            "I'm so sorry, {first}! Could you send a photo of the item?",
        ),
        (Customer, "The lamp shade is bent, the base is fine."),
        (
            Agent,
            "Thank you. A replacement shade ships today, no need to return anything.",
        ),
        (Customer, "Wow, that was fast. Thank you!"),
    ],
    // 15 Portuguese (Brazil), a return
    &[
        (Customer, "Oi! Quero trocar um tênis que ficou apertado."),
        (Agent, "Oi {first}! Claro, qual número você quer?"),
        (Customer, "O 41, por favor."),
    ],
];

/// The 40 customers with a conversation; the first of each language writes in most recently.
pub const PEOPLE: &[Person] = &[
    person("Ana Souza", "5511987650001", 15, &["vip"]),
    person("ليلى حداد", "971501230002", 5, &["vip", "dubai"]),
    person("陈伟", "8613800000003", 9, &["wholesale"]),
    person("Zoë Dubois", "33612340004", 3, &[]),
    person("Diego Fernández", "34612340006", 2, &["madrid"]),
    person("נועה לוי", "972521230007", 6, &[]),
    person("김민지", "821012340008", 7, &["vip"]),
    person("田中 浩", "819012340009", 8, &[]),
    person("Lena Müller", "4915112340010", 4, &["berlin"]),
    person("Emma Johnson", "14155550111", 0, &["vip"]),
    person("Mehmet Yılmaz", "905321230012", 10, &[]),
    person("Giulia Rossi", "393471230013", 11, &["milan"]),
    person("Ольга Иванова", "79161230014", 12, &[]),
    person("Amani Njoroge", "254712340015", 13, &[]),
    person("Jack Thompson", "447700900020", 14, &["returns"]),
    person("João Pereira", "351912340018", 1, &["lisbon"]),
    person("عمر خليل", "201001230016", 5, &[]),
    person("Sofía García", "5215512340017", 2, &["vip"]),
    person("Chloé Martin", "33612340019", 3, &["paris"]),
    person("Bruno Lima", "5521987650005", 15, &["returns"]),
    person("Kwame Mensah", "233241230021", 0, &[]),
    person("Nadia Petrova", "359881230022", 12, &[]),
    person("Hiroshi Sato", "818012340023", 8, &["wholesale"]),
    person("Farah Haddad", "96171230024", 5, &["vip"]),
    person("Mateo Ruiz", "5491123400025", 2, &[]),
    person("Ingrid Larsen", "4791230026", 0, &[]),
    person("Yusuf Demir", "905331230027", 10, &[]),
    person("Camille Bernard", "33612340028", 3, &[]),
    person("Rafael Costa", "5511987650029", 1, &["sao-paulo"]),
    person("Aisha Bello", "2348031230030", 14, &["returns"]),
    person("王芳", "8613900000031", 9, &[]),
    person("Lucas Schneider", "4917612340032", 4, &[]),
    person("Valentina Bianchi", "393481230033", 11, &[]),
    person("박서준", "821022340034", 7, &[]),
    person("Yael Cohen", "972541230035", 6, &["vip"]),
    person("Oliver Smith", "447700900036", 0, &[]),
    person("Beatriz Alves", "351932340037", 1, &[]),
    person("Carlos Mendoza", "5215512340038", 2, &["wholesale"]),
    person("Sakura Ito", "819022340039", 8, &[]),
    person("Daniel Okafor", "2348091230040", 14, &[]),
];

const fn person(
    name: &'static str,
    wa_id: &'static str,
    script: usize,
    tags: &'static [&'static str],
) -> Person {
    Person {
        name,
        wa_id,
        script,
        tags,
    }
}

/// First and last names and country codes the other customers are made from.
pub const FIRST_NAMES: &[&str] = &[
    "Marta", "Pedro", "Inês", "Tomás", "Lucía", "Pablo", "Elena", "Hugo", "Léa", "Jules", "Mia",
    "Felix", "Sara", "Luca", "Nora", "Adam", "Maya", "Karim", "Rania", "Tariq",
];
pub const LAST_NAMES: &[&str] = &[
    "Silva", "Santos", "Moreau", "Navarro", "Weber", "Conti", "Haddad", "Kaya", "Novak",
    "Andersen", "Okoro", "Reyes",
];
pub const COUNTRY_CODES: &[&str] = &["351", "34", "33", "49", "39", "44", "55", "971"];
pub const CITY_TAGS: &[&str] = &["lisbon", "madrid", "paris", "berlin", "milan", "london"];

/// A failed reply in a conversation whose window had closed, with Meta's words for it.
pub const FAILED_REPLY: &str = "Hi {first}, just checking in: did the parcel arrive?";
pub const FAILED_CODE: i32 = 131047;
pub const FAILED_TITLE: &str = "Re-engagement message";
pub const FAILED_DETAILS: &str = "Message failed to send because more than 24 hours have passed since the customer last replied to this number.";

/// A private note an agent left.
pub const NOTE: &str = "Wholesale buyer: offer 10% on orders over 50 units, ask Priya first.";

/// Canned replies: code, body.
pub const CANNED: &[(&str, &str)] = &[
    ("thanks", "Thank you for writing to Acme! 😊"),
    ("hours", "We're open Monday to Saturday, 9:00–19:00."),
    (
        "tracking",
        "You can follow your parcel at acme.example/track with your order number.",
    ),
];

/// The two templates the demo's WABA has besides Meta's three: one in Portuguese, one with an
/// image header (campaigns cannot send it; an agent can).
pub fn extra_templates() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "delivery_slot",
            "pt_BR",
            "UTILITY",
            json!([{ "type": "BODY",
                     "text": "Olá {{1}}, sua entrega está agendada para {{2}}. Responda se precisar mudar.",
                     "example": { "body_text": [["Ana", "sábado, 10h–12h"]] } }]),
        ),
        (
            "autumn_collection",
            "en_US",
            "MARKETING",
            json!([
                { "type": "HEADER", "format": "IMAGE",
                  "example": { "header_handle": ["4::aW1hZ2UvanBlZw==:ARZ"] } },
                { "type": "BODY", "text": "Hi {{1}}, our autumn collection has arrived 🍂 Be the first to see it.",
                  "example": { "body_text": [["Ana"]] } },
                { "type": "FOOTER", "text": "Reply STOP to unsubscribe" }
            ]),
        ),
    ]
}
