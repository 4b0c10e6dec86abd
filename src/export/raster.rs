//! A PNG beside every SVG figure, for what takes pictures rather than vector files: slides,
//! word processors, content systems, social media.
//!
//! Drawn in pure Rust (resvg) at twice the SVG's size, on white, with the font carried in the
//! binary (DejaVu Sans, whose metrics the figures' layout assumes): a PNG needs no system library
//! or installed font and looks the same on every machine.

use resvg::{tiny_skia, usvg};
use std::sync::{Arc, OnceLock};

/// Pixels per SVG unit: 2 gives a 1600-pixel-wide picture for an 800-wide figure, sharp in print
/// at about 13 cm and on high-density screens.
pub const SCALE: f32 = 2.0;

/// The fonts the figures use, loaded once.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(dejavu::sans::regular().to_vec());
            db.load_font_data(dejavu::sans::bold().to_vec());
            // The figures ask for the generic family; every generic name resolves to the one
            // carried font, so nothing depends on what the machine has installed.
            db.set_sans_serif_family("DejaVu Sans");
            db.set_serif_family("DejaVu Sans");
            db.set_monospace_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

/// `svg` rendered as a PNG file's bytes.
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        fontdb: fonts(),
        font_family: "DejaVu Sans".to_string(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("reading the SVG: {e}"))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(SCALE)
        .ok_or("the figure is too large to draw as a PNG")?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or("the figure is too large to draw as a PNG")?;
    // Figures leave their background unpainted; a PNG on a dark page should still read.
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(SCALE, SCALE),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("encoding the PNG: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PNG's width and height from its header (the IHDR chunk).
    fn dimensions(png: &[u8]) -> (u32, u32) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
        let be = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[test]
    fn a_figure_becomes_a_png_twice_its_size_with_its_text_drawn() {
        let blank = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"></svg>"#;
        let text = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><text x="10" y="50" font-family="sans-serif" font-size="20">NSDP 4.54%</text></svg>"#;
        let (a, b) = (png(blank).unwrap(), png(text).unwrap());
        assert_eq!(dimensions(&a), (400, 200));
        assert_eq!(dimensions(&b), (400, 200));
        // Drawn text makes the picture differ from a blank one: the font was found (a missing
        // font draws nothing, silently).
        let decode = |p: &[u8]| tiny_skia::Pixmap::decode_png(p).unwrap();
        let dark = |p: &tiny_skia::Pixmap| p.pixels().iter().filter(|c| c.red() < 128).count();
        assert_eq!(dark(&decode(&a)), 0, "a blank figure is white");
        assert!(dark(&decode(&b)) > 200, "the text is drawn");
    }

    #[test]
    fn a_broken_figure_is_an_error_not_a_panic() {
        assert!(png("<svg").unwrap_err().contains("reading the SVG"));
    }
}
