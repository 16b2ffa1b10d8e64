//! Shared drawing: the `Figure` trait, PNG and SVG rendering, the embedded font, colours, labels.

use super::Plot;
use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::OnceLock;

pub(super) type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that draws itself on any plotters backend.
pub(super) trait Figure {
    /// Size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws onto the whole area.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Draws a chart's series legend in the upper right corner, on a translucent box.
pub(super) fn draw_series_labels<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(200, 200, 200))
        .label_font(font(14))
        .draw()
}

/// Registers the embedded font once.
fn fonts() -> Result<()> {
    static FONTS: OnceLock<bool> = OnceLock::new();
    let ok = *FONTS.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded plot font could not be loaded"))
    }
}

/// Renders a figure to PNG and SVG.
pub(super) fn render(
    name: &'static str,
    title: String,
    note: String,
    fig: &impl Figure,
) -> Result<Plot> {
    fonts()?;
    let (w, h) = fig.size();
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| anyhow!("cannot draw the {name} plot: {e}"))?;
        root.present().map_err(|e| anyhow!("cannot draw the {name} plot: {e}"))?;
    }
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &rgb,
        w,
        h,
        image::ExtendedColorType::Rgb8,
    )
    .with_context(|| format!("cannot encode the {name} plot as PNG"))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| anyhow!("cannot draw the {name} plot: {e}"))?;
        root.present().map_err(|e| anyhow!("cannot draw the {name} plot: {e}"))?;
    }
    Ok(Plot { name, title, note, png, svg })
}

/// Ten distinct colours (Tableau 10).
pub(super) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
pub(super) const TRAIN_COLOUR: RGBColor = PALETTE[0];
pub(super) const VAL_COLOUR: RGBColor = PALETTE[1];
pub(super) const BEST_COLOUR: RGBColor = PALETTE[2];
pub(super) const ALERT_COLOUR: RGBColor = PALETTE[3];
pub(super) const GRID_COLOUR: RGBColor = RGBColor(236, 236, 236);
pub(super) const AXIS_COLOUR: RGBColor = RGBColor(90, 90, 90);

pub(super) fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&RGBColor(40, 40, 40))
}

/// Short number labels: 3 significant digits, scientific for very small or large values.
pub(super) fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else {
        let digits = (2 - a.log10().floor() as i32).clamp(0, 6) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// A range around `lo..hi` that is never empty.
pub(super) fn padded(lo: f64, hi: f64, share: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) * 0.1 };
    (lo - span * share, hi + span * share)
}
