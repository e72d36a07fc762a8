//! A terminal screen (as the vt100 emulator holds it) drawn as SVG: the README's screenshots are
//! the real screens of the real binary, not mock-ups.

use std::fmt::Write;

/// One cell's size in pixels, for a 14 px monospace font.
const CELL_W: f64 = 8.4;
const CELL_H: f64 = 18.0;
const PAD: f64 = 12.0;
const BACKGROUND: &str = "#1d1f21";
const FOREGROUND: &str = "#d8dee9";

/// The 16 ANSI colours (a dark palette).
const ANSI: [&str; 16] = [
    "#1d1f21", "#cc6666", "#8fbc6a", "#e0b055", "#6f9fd8", "#b294bb", "#6ab0b3", "#c5c8c6",
    "#666a70", "#f07178", "#b5e07a", "#ffd580", "#82aaff", "#d4a5e8", "#89ddff", "#ffffff",
];

fn colour(colour: vt100::Color, default: &str) -> String {
    match colour {
        vt100::Color::Default => default.to_string(),
        vt100::Color::Idx(i) if i < 16 => ANSI[usize::from(i)].to_string(),
        vt100::Color::Idx(i) if i < 232 => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            let i = i - 16;
            format!(
                "#{:02x}{:02x}{:02x}",
                level(i / 36),
                level(i / 6 % 6),
                level(i % 6)
            )
        }
        vt100::Color::Idx(i) => {
            let grey = 8 + 10 * (i - 232);
            format!("#{grey:02x}{grey:02x}{grey:02x}")
        }
        vt100::Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The screen as an SVG document: backgrounds as rectangles, each cell's text at its column.
pub fn render(screen: &vt100::Screen) -> String {
    let (rows, cols) = screen.size();
    let (rows, cols) = (rows.get(), cols.get());
    let width = f64::from(cols) * CELL_W + 2.0 * PAD;
    let height = f64::from(rows) * CELL_H + 2.0 * PAD;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="'DejaVu Sans Mono','Menlo','Consolas',monospace" font-size="14">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" rx="8" fill="{BACKGROUND}"/>"#
    );
    for row in 0..rows {
        let y = PAD + f64::from(row) * CELL_H;
        let baseline = y + CELL_H * 0.75;
        // Text goes out in runs of one style, each pinned to its cells' width; backgrounds in
        // runs of one colour.
        let mut run: Option<Run> = None;
        let mut fill: Option<(f64, f64, String)> = None;
        for col in 0..cols {
            let Some(cell) = screen.cell(row, col) else {
                continue;
            };
            if cell.is_wide_continuation() {
                continue;
            }
            let x = PAD + f64::from(col) * CELL_W;
            let wide = cell.is_wide();
            let (mut fg, mut bg) = (
                colour(cell.fgcolor(), FOREGROUND),
                colour(cell.bgcolor(), BACKGROUND),
            );
            if cell.inverse() {
                std::mem::swap(&mut fg, &mut bg);
            }
            let cell_w = CELL_W * if wide { 2.0 } else { 1.0 };
            match fill.as_mut() {
                Some((_, w, colour)) if *colour == bg => *w += cell_w,
                _ => {
                    if let Some(done) = fill.take() {
                        rect(&mut svg, y, done);
                    }
                    fill = Some((x, cell_w, bg.clone()));
                }
            }
            let style = Style {
                fg,
                bold: cell.bold(),
                italic: cell.italic(),
            };
            let text = if cell.has_contents() {
                cell.contents()
            } else {
                " "
            };
            let joins = run
                .as_ref()
                .is_some_and(|r| !wide && !r.wide && r.style == style);
            if !joins {
                if let Some(done) = run.take() {
                    done.write(&mut svg, baseline);
                }
                run = Some(Run {
                    x,
                    cells: 0,
                    text: String::new(),
                    style,
                    wide,
                });
            }
            if let Some(current) = run.as_mut() {
                current.text.push_str(text);
                current.cells += if wide { 2 } else { 1 };
            }
        }
        if let Some(done) = fill.take() {
            rect(&mut svg, y, done);
        }
        if let Some(done) = run.take() {
            done.write(&mut svg, baseline);
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// A background run, unless it is the screen's own.
fn rect(svg: &mut String, y: f64, (x, width, colour): (f64, f64, String)) {
    if colour != BACKGROUND {
        let _ = writeln!(
            svg,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{CELL_H}" fill="{colour}" shape-rendering="crispEdges"/>"#
        );
    }
}

#[derive(PartialEq)]
struct Style {
    fg: String,
    bold: bool,
    italic: bool,
}

/// Cells of one style side by side.
struct Run {
    x: f64,
    cells: usize,
    text: String,
    style: Style,
    wide: bool,
}

impl Run {
    fn write(self, svg: &mut String, baseline: f64) {
        let trimmed = self.text.trim_end();
        if trimmed.is_empty() {
            return;
        }
        let cells = self.cells - (self.text.chars().count() - trimmed.chars().count());
        let weight = if self.style.bold {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let italic = if self.style.italic {
            r#" font-style="italic""#
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{baseline:.1}" fill="{}" textLength="{:.1}" lengthAdjust="spacingAndGlyphs" xml:space="preserve"{weight}{italic}>{}</text>"#,
            self.x,
            self.style.fg,
            cells as f64 * CELL_W,
            escape(trimmed)
        );
    }
}
