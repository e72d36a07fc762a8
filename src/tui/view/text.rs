//! Fitting text into cells: display widths of every script (wide CJK, emoji), truncation that
//! says so with `…`, word wrapping, and lines with a part aligned right.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Cells `text` takes, grapheme by grapheme as ratatui lays it out (so `لا` is two cells, and
/// an emoji with its variation selector two).
pub fn width(text: &str) -> usize {
    text.graphemes(true).map(UnicodeWidthStr::width).sum()
}

/// At most `max` cells of `text`; cut text ends with `…`.
pub fn truncate(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for grapheme in text.graphemes(true) {
        let w = grapheme.width();
        if used + w > max - 1 {
            break;
        }
        out.push_str(grapheme);
        used += w;
    }
    out.push('…');
    out
}

/// At most `max` cells of `text`, cut between words when it is cut (`…` after the last whole
/// word); a first word longer than `max` is cut where it must be.
pub fn truncate_words(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    let mut end = None;
    let mut used = 0;
    for (index, grapheme) in text.grapheme_indices(true) {
        if grapheme == " " && used < max {
            end = Some(index);
        }
        used += grapheme.width();
        if used >= max {
            break;
        }
    }
    match end
        .map(|end| text[..end].trim_end())
        .filter(|kept| !kept.is_empty())
    {
        Some(kept) => format!("{kept}…"),
        None => truncate(text, max),
    }
}

/// Words wrapped into lines of at most `max` cells; a word longer than a line is split.
/// Newlines in the text are kept.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in paragraph.split(' ') {
            let w = width(word);
            let gap = usize::from(!line.is_empty());
            if used + gap + w <= max {
                if gap == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                used += gap + w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            for grapheme in word.graphemes(true) {
                let gw = grapheme.width();
                if used + gw > max {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                }
                line.push_str(grapheme);
                used += gw;
            }
        }
        lines.push(line);
    }
    lines
}

/// One line of `max` cells: the left spans (the last one truncated to fit) and the right spans
/// against the right edge.
pub fn spread(left: Vec<Span<'static>>, right: Vec<Span<'static>>, max: usize) -> Line<'static> {
    let right_width: usize = right.iter().map(|s| width(&s.content)).sum();
    let room = max.saturating_sub(right_width + usize::from(right_width > 0));
    let mut spans = Vec::new();
    let mut used = 0;
    for span in left {
        let w = width(&span.content);
        if used + w <= room {
            used += w;
            spans.push(span);
        } else {
            let cut = truncate(&span.content, room - used);
            used += width(&cut);
            spans.push(Span::styled(cut, span.style));
            break;
        }
    }
    let pad = max.saturating_sub(used + right_width);
    spans.push(Span::styled(" ".repeat(pad), Style::default()));
    spans.extend(right);
    Line::from(spans)
}

/// Exactly `max` cells: `text` truncated if longer, padded with spaces after it if shorter.
pub fn fit(text: &str, max: usize) -> String {
    let cut = truncate(text, max);
    let pad = max.saturating_sub(width(&cut));
    format!("{cut}{}", " ".repeat(pad))
}

/// Exactly `max` cells, the text against the right edge.
pub fn fit_right(text: &str, max: usize) -> String {
    let cut = truncate(text, max);
    let pad = max.saturating_sub(width(&cut));
    format!("{}{cut}", " ".repeat(pad))
}

/// One part of a line that gives way when the line is short: its separator from the part
/// before, its spans, and how readily it goes (0 never; the highest goes first).
pub struct Part {
    pub separator: &'static str,
    pub spans: Vec<Span<'static>>,
    pub gives_way: u8,
}

/// The parts that fit in `max` cells, whole: parts that give way go, the most ready first,
/// until the rest fits; only when the parts that never go do not fit is the line truncated.
pub fn parts(mut parts: Vec<Part>, max: usize) -> Line<'static> {
    let part_width = |part: &Part| {
        width(part.separator) + part.spans.iter().map(|s| width(&s.content)).sum::<usize>()
    };
    loop {
        let total: usize = parts.iter().map(part_width).sum();
        if total <= max {
            break;
        }
        let Some((index, _)) = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.gives_way > 0)
            .max_by_key(|(i, p)| (p.gives_way, *i))
        else {
            break;
        };
        parts.remove(index);
    }
    let mut spans = Vec::new();
    for (index, part) in parts.into_iter().enumerate() {
        if index > 0 {
            spans.push(Span::raw(part.separator));
        }
        spans.extend(part.spans);
    }
    spread(spans, Vec::new(), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_wide_characters() {
        assert_eq!(truncate("Zoë Ñúñez", 20), "Zoë Ñúñez");
        assert_eq!(truncate("Does it come in blue?", 10), "Does it c…");
        assert_eq!(truncate("陳偉陳偉陳偉", 5), "陳偉…");
        assert_eq!(
            width("جزيلا"),
            5,
            "lam-alef is two cells, as ratatui draws it"
        );
    }

    #[test]
    fn wrapping_keeps_words_and_newlines() {
        assert_eq!(
            wrap("Hi Ana, your order has shipped.", 12),
            vec!["Hi Ana, your", "order has", "shipped."]
        );
        assert_eq!(wrap("a\nb", 10), vec!["a", "b"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn parts_give_way_whole_before_anything_is_cut() {
        let part = |separator, text: &str, gives_way| Part {
            separator,
            spans: vec![Span::raw(text.to_string())],
            gives_way,
        };
        let make = || {
            vec![
                part("", "Spring sale", 0),
                part(" · ", "spring_sale (MARKETING, en_US)", 2),
                part(" · ", "RUNNING", 0),
                part(" ", "since 10:02", 1),
            ]
        };
        assert_eq!(
            parts(make(), 70).to_string().trim_end(),
            "Spring sale · spring_sale (MARKETING, en_US) · RUNNING since 10:02"
        );
        assert_eq!(
            parts(make(), 60).to_string().trim_end(),
            "Spring sale · RUNNING since 10:02"
        );
        assert_eq!(
            parts(make(), 24).to_string().trim_end(),
            "Spring sale · RUNNING"
        );
        assert_eq!(parts(make(), 12).to_string(), "Spring sale…");
    }

    #[test]
    fn truncation_by_words_keeps_whole_words() {
        assert_eq!(
            truncate_words("undeliverable (not on WhatsApp)", 40),
            "undeliverable (not on WhatsApp)"
        );
        assert_eq!(
            truncate_words("undeliverable (not on WhatsApp)", 20),
            "undeliverable (not…"
        );
        assert_eq!(
            truncate_words("undeliverable (not on WhatsApp)", 10),
            "undeliver…"
        );
        assert!(width(&truncate_words("a bb ccc dddd", 7)) <= 7);
    }

    #[test]
    fn fitting_pads_to_the_width() {
        assert_eq!(fit("Ana", 5), "Ana  ");
        assert_eq!(fit_right("12", 4), "  12");
        assert_eq!(fit("陳偉陳偉", 5), "陳偉…");
    }

    #[test]
    fn spread_puts_the_right_part_at_the_edge() {
        let line = spread(vec![Span::raw("Ana Souza")], vec![Span::raw("12:41")], 20);
        assert_eq!(line.to_string(), "Ana Souza      12:41");
        let line = spread(
            vec![Span::raw("A very long name indeed")],
            vec![Span::raw("12:41")],
            16,
        );
        assert_eq!(line.to_string(), "A very lo… 12:41");
    }
}
