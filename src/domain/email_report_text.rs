//! The words of an e-mail report in each language; numbers and dates come from [`Language`].

use super::language::Language;

/// The fixed texts of a report. `{site}`, `{from}`, `{to}` and `{n}` are filled in.
pub struct ReportTexts {
    pub weekly: &'static str,
    pub monthly: &'static str,
    pub period: &'static str,
    /// The subject's count: `{n} visitors`.
    pub visitor_count: &'static str,
    pub visitors: &'static str,
    pub pageviews: &'static str,
    pub vs_previous: &'static str,
    pub previous: &'static str,
    /// The change when the previous period had none.
    pub new: &'static str,
    pub top_pages: &'static str,
    pub top_sources: &'static str,
    /// The unit after a top list's title in the plain-text part.
    pub per_visitors: &'static str,
    pub name: &'static str,
    pub none: &'static str,
    pub footer: &'static str,
}

const EN: ReportTexts = ReportTexts {
    weekly: "Weekly report for {site}",
    monthly: "Monthly report for {site}",
    period: "{from} to {to}",
    visitor_count: "{n} visitors",
    visitors: "Visitors",
    pageviews: "Pageviews",
    vs_previous: "vs. previous period",
    previous: "previous",
    new: "new",
    top_pages: "Top pages",
    top_sources: "Top sources",
    per_visitors: "visitors",
    name: "Name",
    none: "(none)",
    footer: "Sent by HitKeep.",
};

const DE: ReportTexts = ReportTexts {
    weekly: "Wochenbericht für {site}",
    monthly: "Monatsbericht für {site}",
    period: "{from} bis {to}",
    visitor_count: "{n} Besucher",
    visitors: "Besucher",
    pageviews: "Seitenaufrufe",
    vs_previous: "ggü. Vorzeitraum",
    previous: "zuvor",
    new: "neu",
    top_pages: "Top-Seiten",
    top_sources: "Top-Quellen",
    per_visitors: "Besucher",
    name: "Name",
    none: "(keine)",
    footer: "Gesendet von HitKeep.",
};

const FR: ReportTexts = ReportTexts {
    weekly: "Rapport hebdomadaire pour {site}",
    monthly: "Rapport mensuel pour {site}",
    period: "du {from} au {to}",
    visitor_count: "{n} visiteurs",
    visitors: "Visiteurs",
    pageviews: "Pages vues",
    vs_previous: "par rapport à la période précédente",
    previous: "avant",
    new: "nouveau",
    top_pages: "Pages principales",
    top_sources: "Sources principales",
    per_visitors: "visiteurs",
    name: "Nom",
    none: "(aucune)",
    footer: "Envoyé par HitKeep.",
};

const ES: ReportTexts = ReportTexts {
    weekly: "Informe semanal de {site}",
    monthly: "Informe mensual de {site}",
    period: "del {from} al {to}",
    visitor_count: "{n} visitantes",
    visitors: "Visitantes",
    pageviews: "Páginas vistas",
    vs_previous: "frente al periodo anterior",
    previous: "antes",
    new: "nuevo",
    top_pages: "Páginas principales",
    top_sources: "Fuentes principales",
    per_visitors: "visitantes",
    name: "Nombre",
    none: "(ninguna)",
    footer: "Enviado por HitKeep.",
};

const IT: ReportTexts = ReportTexts {
    weekly: "Report settimanale di {site}",
    monthly: "Report mensile di {site}",
    period: "dal {from} al {to}",
    visitor_count: "{n} visitatori",
    visitors: "Visitatori",
    pageviews: "Visualizzazioni di pagina",
    vs_previous: "rispetto al periodo precedente",
    previous: "prima",
    new: "nuovo",
    top_pages: "Pagine principali",
    top_sources: "Sorgenti principali",
    per_visitors: "visitatori",
    name: "Nome",
    none: "(nessuna)",
    footer: "Inviato da HitKeep.",
};

const NL: ReportTexts = ReportTexts {
    weekly: "Weekrapport voor {site}",
    monthly: "Maandrapport voor {site}",
    period: "{from} t/m {to}",
    visitor_count: "{n} bezoekers",
    visitors: "Bezoekers",
    pageviews: "Paginaweergaven",
    vs_previous: "t.o.v. vorige periode",
    previous: "vorige",
    new: "nieuw",
    top_pages: "Toppagina's",
    top_sources: "Topbronnen",
    per_visitors: "bezoekers",
    name: "Naam",
    none: "(geen)",
    footer: "Verzonden door HitKeep.",
};

const PT_BR: ReportTexts = ReportTexts {
    weekly: "Relatório semanal de {site}",
    monthly: "Relatório mensal de {site}",
    period: "de {from} a {to}",
    visitor_count: "{n} visitantes",
    visitors: "Visitantes",
    pageviews: "Visualizações de página",
    vs_previous: "em relação ao período anterior",
    previous: "antes",
    new: "novo",
    top_pages: "Páginas mais visitadas",
    top_sources: "Principais origens",
    per_visitors: "visitantes",
    name: "Nome",
    none: "(nenhuma)",
    footer: "Enviado pelo HitKeep.",
};

/// The texts of a report in `lang`.
pub fn texts(lang: Language) -> &'static ReportTexts {
    match lang {
        Language::En => &EN,
        Language::De => &DE,
        Language::Fr => &FR,
        Language::Es => &ES,
        Language::It => &IT,
        Language::Nl => &NL,
        Language::PtBr => &PT_BR,
    }
}
