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

/// The string for `key` in `lang` (the languages of CONTRACT 7.3.4: en, es,
/// ja, ar, ru), English for any other language.
pub fn ui(lang: &str, key: Ui) -> &'static str {
    match lang {
        "es" => es(key),
        "ru" => ru(key),
        "ja" => ja(key),
        "ar" => ar(key),
        _ => en(key),
    }
}

fn en(key: Ui) -> &'static str {
    use Ui::*;
    match key {
        AskWebsiteUrl => "Paste the URL of one public page of your website and I'll draft the FAQs from it.",
        AskConsent => "May I read this one public page to draft your FAQs? Answer Yes or No.",
        AskBusinessBasics => "No problem, I won't read it. Tell me in one sentence what your business does, and in another who your customers are.",
        AskSingleUrl => "You shared multiple URLs. I read one page at a time, so which one should I use?",
        BlockedUrl => "I can only read public web pages, so I can't use that link",
        FetchFailed => "I couldn't read this page:",
        CloudflareError => "That looks like a Cloudflare error page, not a request. Try again in a moment and tell me what you'd like to change.",
        WidgetNotEnabled => "This assistant can't edit this kind of widget yet. Create a free account to edit it with the full editor.",
        CapabilityGate => "Here I can rewrite your FAQs or draft them from one page of your website. For design changes, create a free account.",
        InvalidOps => "That change didn't match the fields this widget lets me edit. Tell me which setting to change, for example the stage background or the FAQ title.",
        YesNo => "Yes or No?",
        AskPageForWebsite => "Which page of your website should I use? Paste a single URL.",
        RewriteExistingOrNew => "Should I rewrite the questions you already have, or write new ones?",
        MissingAllowlist => "I can't edit the copy of this widget here yet.",
    }
}

fn es(key: Ui) -> &'static str {
    use Ui::*;
    match key {
        AskWebsiteUrl => "Pega la URL de una página pública de tu sitio y redactaré las preguntas a partir de ella.",
        AskConsent => "¿Puedo leer esta página pública para redactar tus preguntas frecuentes? Responde Sí o No.",
        AskBusinessBasics => "De acuerdo, no la leeré. Cuéntame en una frase qué hace tu negocio y en otra quiénes son tus clientes.",
        AskSingleUrl => "Compartiste varias URL y leo una página cada vez. ¿Cuál debo usar?",
        BlockedUrl => "Solo puedo leer páginas web públicas, así que no puedo usar ese enlace",
        FetchFailed => "No pude leer esta página:",
        CloudflareError => "Eso parece una página de error de Cloudflare, no una petición. Vuelve a intentarlo en un momento y dime qué quieres cambiar.",
        WidgetNotEnabled => "Este asistente todavía no puede editar este tipo de widget. Crea una cuenta gratuita para editarlo con todas las herramientas.",
        CapabilityGate => "Aquí puedo reescribir tus preguntas frecuentes o redactarlas a partir de una página de tu sitio. Para cambios de diseño, crea una cuenta gratuita.",
        InvalidOps => "Ese cambio no coincidió con los campos editables de este widget. Dime qué ajuste quieres cambiar, por ejemplo el fondo del escenario o el título de las preguntas.",
        YesNo => "¿Sí o No?",
        AskPageForWebsite => "¿Qué página de tu sitio debo usar? Pega una sola URL.",
        RewriteExistingOrNew => "¿Reescribo las preguntas que ya tienes o escribo preguntas nuevas?",
        MissingAllowlist => "Todavía no puedo editar el texto de este widget aquí.",
    }
}

fn ru(key: Ui) -> &'static str {
    use Ui::*;
    match key {
        AskWebsiteUrl => "Пришлите ссылку на одну публичную страницу вашего сайта, и я составлю по ней вопросы и ответы.",
        AskConsent => "Можно прочитать эту публичную страницу, чтобы составить вопросы и ответы? Ответьте «да» или «нет».",
        AskBusinessBasics => "Хорошо, не буду её читать. Опишите одним предложением, чем занимается ваш бизнес, и другим — кто ваши клиенты.",
        AskSingleUrl => "Вы прислали несколько ссылок, а я читаю по одной странице. Какую использовать?",
        BlockedUrl => "Я могу читать только публичные веб-страницы, поэтому эту ссылку использовать не получится",
        FetchFailed => "Не удалось прочитать эту страницу:",
        CloudflareError => "Похоже, это страница ошибки Cloudflare, а не запрос. Попробуйте ещё раз чуть позже и напишите, что хотите изменить.",
        WidgetNotEnabled => "Этот помощник пока не умеет редактировать такой виджет. Создайте бесплатный аккаунт, чтобы открыть полный редактор.",
        CapabilityGate => "Здесь я могу переписать ваши вопросы и ответы или составить их по одной странице вашего сайта. Для изменений дизайна создайте бесплатный аккаунт.",
        InvalidOps => "Это изменение не подошло к полям, которые можно редактировать в этом виджете. Напишите, какую настройку изменить, например фон сцены или заголовок.",
        YesNo => "Да или нет?",
        AskPageForWebsite => "Какую страницу вашего сайта использовать? Пришлите одну ссылку.",
        RewriteExistingOrNew => "Переписать уже существующие вопросы или написать новые?",
        MissingAllowlist => "Здесь пока нельзя редактировать тексты этого виджета.",
    }
}

fn ja(key: Ui) -> &'static str {
    use Ui::*;
    match key {
        AskWebsiteUrl => "ウェブサイトの公開ページのURLを1つ貼ってください。その内容からFAQを作成します。",
        AskConsent => "FAQを作成するために、この公開ページを1つ読んでもよろしいですか？「はい」か「いいえ」でお答えください。",
        AskBusinessBasics => "わかりました、読みません。事業内容とお客様について、それぞれ一文で教えてください。",
        AskSingleUrl => "複数のURLが送られました。一度に読めるのは1ページだけです。どれを使いますか？",
        BlockedUrl => "読めるのは公開されているウェブページだけなので、このリンクは使えません",
        FetchFailed => "このページを読み込めませんでした：",
        CloudflareError => "これはリクエストではなく、Cloudflareのエラーページのようです。少し待ってからもう一度、変更したい内容を教えてください。",
        WidgetNotEnabled => "このアシスタントはまだこの種類のウィジェットを編集できません。無料アカウントを作成すると、すべての編集機能を使えます。",
        CapabilityGate => "ここではFAQの書き直しや、サイトの1ページからのFAQ作成ができます。デザインを変更するには無料アカウントを作成してください。",
        InvalidOps => "その変更は、このウィジェットで編集できる項目に合いませんでした。変更したい設定を教えてください（例：ステージの背景、FAQのタイトル）。",
        YesNo => "はい、それともいいえ？",
        AskPageForWebsite => "サイトのどのページを使いますか？URLを1つ貼ってください。",
        RewriteExistingOrNew => "今ある質問を書き直しますか、それとも新しい質問を書きますか？",
        MissingAllowlist => "このウィジェットの文章はここではまだ編集できません。",
    }
}

fn ar(key: Ui) -> &'static str {
    use Ui::*;
    match key {
        AskWebsiteUrl => "الصق رابط صفحة عامة واحدة من موقعك، وسأكتب منها الأسئلة الشائعة.",
        AskConsent => "هل تسمح لي بقراءة هذه الصفحة العامة لكتابة الأسئلة الشائعة؟ أجب بنعم أو لا.",
        AskBusinessBasics => "لا بأس، لن أقرأها. أخبرني في جملة واحدة ماذا يقدّم عملك، وفي جملة أخرى من هم عملاؤك.",
        AskSingleUrl => "أرسلت عدة روابط، وأنا أقرأ صفحة واحدة في كل مرة. أيها أستخدم؟",
        BlockedUrl => "لا يمكنني قراءة إلا صفحات الويب العامة، لذلك لا يمكنني استخدام هذا الرابط",
        FetchFailed => "تعذّرت قراءة هذه الصفحة:",
        CloudflareError => "يبدو أن هذه صفحة خطأ من Cloudflare وليست طلبًا. حاول مرة أخرى بعد قليل وأخبرني بما تريد تغييره.",
        WidgetNotEnabled => "لا يستطيع هذا المساعد تعديل هذا النوع من الأدوات بعد. أنشئ حسابًا مجانيًا لتعديله بالمحرر الكامل.",
        CapabilityGate => "هنا يمكنني إعادة كتابة أسئلتك الشائعة أو كتابتها من صفحة واحدة من موقعك. لتغييرات التصميم، أنشئ حسابًا مجانيًا.",
        InvalidOps => "هذا التغيير لا يطابق الحقول القابلة للتعديل في هذه الأداة. أخبرني بالإعداد الذي تريد تغييره، مثل خلفية المسرح أو عنوان الأسئلة.",
        YesNo => "نعم أم لا؟",
        AskPageForWebsite => "أي صفحة من موقعك أستخدم؟ الصق رابطًا واحدًا.",
        RewriteExistingOrNew => "هل أعيد كتابة الأسئلة الموجودة أم أكتب أسئلة جديدة؟",
        MissingAllowlist => "لا يمكنني تعديل نصوص هذه الأداة هنا بعد.",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_string_and_falls_back_to_english() {
        let keys = [
            Ui::AskWebsiteUrl,
            Ui::AskConsent,
            Ui::AskBusinessBasics,
            Ui::AskSingleUrl,
            Ui::BlockedUrl,
            Ui::FetchFailed,
            Ui::CloudflareError,
            Ui::WidgetNotEnabled,
            Ui::CapabilityGate,
            Ui::InvalidOps,
            Ui::YesNo,
            Ui::AskPageForWebsite,
            Ui::RewriteExistingOrNew,
            Ui::MissingAllowlist,
        ];
        for lang in ["es", "ru", "ja", "ar"] {
            for k in keys {
                assert_ne!(ui(lang, k), ui("en", k), "{lang} {k:?} is untranslated");
            }
        }
        assert_eq!(ui("de", Ui::YesNo), "Yes or No?");
        assert!(ui("en", Ui::AskSingleUrl).contains("multiple URLs"));
        assert!(ui("ja", Ui::CloudflareError).contains("Cloudflare"));
    }
}
