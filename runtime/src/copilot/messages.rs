//! User-visible strings. Our own wording; only the short phrases the golden
//! set or Bob asserts are kept from the original ("multiple URLs",
//! "Cloudflare", "broad request", "editable controls", "Yes or No?", the
//! `Ok — applying …` confirmations and the reason codes in parentheses).

/// Strings that exist per conversation language (fallback English).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ui {
    AskWebsiteUrl,
    AskConsent,
    AskBusinessBasics,
    AskSingleUrl,
    BlockedUrl,
    FetchFailed,
    CloudflareError,
    WidgetNotEnabled,
    CapabilityGate,
    InvalidOps,
    YesNo,
    AskPageForWebsite,
    RewriteExistingOrNew,
    MissingAllowlist,
}

/// The string for `key` in `lang`, English when there is no translation.
pub fn ui(lang: &str, key: Ui) -> &'static str {
    let es = lang == "es";
    use Ui::*;
    match key {
        AskWebsiteUrl if es => "Pega la URL de una página pública de tu sitio y redactaré las preguntas a partir de ella.",
        AskWebsiteUrl => "Paste the URL of one public page of your website and I'll draft the FAQs from it.",
        AskConsent if es => "¿Puedo leer esta página pública para redactar tus preguntas frecuentes? Responde Sí o No.",
        AskConsent => "May I read this one public page to draft your FAQs? Answer Yes or No.",
        AskBusinessBasics if es => "De acuerdo, no la leeré. Cuéntame en una frase qué hace tu negocio y en otra quiénes son tus clientes.",
        AskBusinessBasics => "No problem, I won't read it. Tell me in one sentence what your business does, and in another who your customers are.",
        AskSingleUrl if es => "Compartiste varias URL y leo una página cada vez. ¿Cuál debo usar?",
        AskSingleUrl => "You shared multiple URLs. I read one page at a time, so which one should I use?",
        BlockedUrl if es => "Solo puedo leer páginas web públicas, así que no puedo usar ese enlace",
        BlockedUrl => "I can only read public web pages, so I can't use that link",
        FetchFailed if es => "No pude leer esta página:",
        FetchFailed => "I couldn't read this page:",
        CloudflareError if es => "Eso parece una página de error de Cloudflare, no una petición. Vuelve a intentarlo en un momento y dime qué quieres cambiar.",
        CloudflareError => "That looks like a Cloudflare error page, not a request. Try again in a moment and tell me what you'd like to change.",
        WidgetNotEnabled if es => "Este asistente todavía no puede editar este tipo de widget. Crea una cuenta gratuita para editarlo con todas las herramientas.",
        WidgetNotEnabled => "This assistant can't edit this kind of widget yet. Create a free account to edit it with the full editor.",
        CapabilityGate if es => "Aquí puedo reescribir tus preguntas frecuentes o redactarlas a partir de una página de tu sitio. Para cambios de diseño, crea una cuenta gratuita.",
        CapabilityGate => "Here I can rewrite your FAQs or draft them from one page of your website. For design changes, create a free account.",
        InvalidOps if es => "Ese cambio no coincidió con los campos editables de este widget. Dime qué ajuste quieres cambiar, por ejemplo el fondo del escenario o el título de las preguntas.",
        InvalidOps => "That change didn't match the fields this widget lets me edit. Tell me which setting to change, for example the stage background or the FAQ title.",
        YesNo if es => "¿Sí o No?",
        YesNo => "Yes or No?",
        AskPageForWebsite if es => "¿Qué página de tu sitio debo usar? Pega una sola URL.",
        AskPageForWebsite => "Which page of your website should I use? Paste a single URL.",
        RewriteExistingOrNew if es => "¿Reescribo las preguntas que ya tienes o escribo preguntas nuevas?",
        RewriteExistingOrNew => "Should I rewrite the questions you already have, or write new ones?",
        MissingAllowlist if es => "Todavía no puedo editar el texto de este widget aquí.",
        MissingAllowlist => "I can't edit the copy of this widget here yet.",
    }
}

/// "I can reply in …" for the language-only route, in that language.
pub fn can_reply_in(lang: &str) -> &'static str {
    match lang {
        "es" => "Claro, seguiré en español.",
        "fr" => "D'accord, je continue en français.",
        "de" => "Gern, ich antworte ab jetzt auf Deutsch.",
        "it" => "Certo, da ora rispondo in italiano.",
        "pt" => "Claro, vou continuar em português.",
        "nl" => "Prima, ik ga verder in het Nederlands.",
        "ru" => "Хорошо, дальше отвечаю по-русски.",
        "ar" => "حسنًا، سأتابع باللغة العربية.",
        "ja" => "わかりました。ここからは日本語でお答えします。",
        "ko" => "좋아요, 이제 한국어로 답할게요.",
        "zh" => "好的，接下来我用中文回复。",
        "he" => "בסדר, אמשיך בעברית.",
        "hi" => "ठीक है, अब मैं हिन्दी में जवाब दूँगा।",
        _ => "Sure, I'll keep replying in English.",
    }
}

/// What the language-only route suggests next (English: the product's
/// examples are English commands Bob's UI shows).
pub const NEXT_STEP_HINT: &str =
    "\n\nWhat next? Say “rewrite existing FAQs”, or share one website URL.";

/// The model's reply could not be read (no JSON, and not plain prose).
pub const MODEL_UNREADABLE: &str =
    "Sorry, I couldn't put that change together. Could you say it again, maybe in fewer words?";

/// CS answer when the model asked for controls or config instead of acting.
pub const CONTROL_DUMP: &str = "No need to send me controls or config: I can change this widget directly. Tell me what you'd like, for example “make the FAQ title shorter” or “turn on multi-open”.";

pub const OVERBROAD: &str = "That's a broad request. Let's go one step at a time: should I start with the content (titles, questions and answers) or with the styling (colors, fonts, spacing)?";

pub const BACKGROUND_FALLBACK: &str =
    "Which background do you mean: the stage around the widget, or the pod (the widget's card)?";

pub const APPLY_ALL: &str = "Ok — applying across the whole widget.";
pub const APPLY_ALL_NOTHING_LEFT: &str = "Those pending changes no longer match this widget's controls, so I didn't apply them. Tell me again what you'd like to change.";

pub fn apply_scope(scope: &str) -> String {
    format!("Ok — applying to {scope} only.")
}

pub fn apply_group(label: &str) -> String {
    format!("Ok — applying to “{label}” only.")
}

pub fn too_many_ops(count: usize, max: usize) -> String {
    format!("That would change {count} settings at once; I keep edits to {max} or fewer. Could you ask for a smaller change?")
}

pub fn too_many_paths(count: usize, max: usize) -> String {
    format!("That would touch {count} different fields; I keep edits to {max} or fewer. Could you narrow it down?")
}

pub fn pick_scope(scopes: &[String]) -> String {
    format!(
        "This change touches several areas ({}). Which one should I change? Answer {}, or say “apply across widget” to change them all.",
        scopes.join(", "),
        scopes.join(" or ")
    )
}

pub fn pick_group(labels: &[String]) -> String {
    let list: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{}. {l}", i + 1))
        .collect();
    format!(
        "This change spans many groups of settings. Which group should I change? Answer with a number or a name, or say “apply across widget”.\n\n{}",
        list.join("\n")
    )
}

pub fn confirm_sensitive(paths: &[String]) -> String {
    format!(
        "This change touches embed, script or HTML settings ({}). Say “apply across widget” to confirm, or tell me what to change instead.",
        paths.join(", ")
    )
}
