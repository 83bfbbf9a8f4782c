//! Images: loading, preprocessing into the model tensor, pixel feature maps, image baselines.
//!
//! An image file is decoded (PNG or JPEG), converted to 8-bit RGB, resized to the model input's
//! size with a deterministic Triangle (bilinear) filter when it differs, and turned into the
//! model tensor by [`Preprocess`]: `value = (pixel_0_255 * scale - mean[c]) / std[c]`.

use std::path::Path;

use ::image::{ImageReader, RgbImage, imageops::FilterType};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::util::limits::shape_string;
use crate::{Error, Result, bad_input};

/// Axis order of an image tensor row (without the batch axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `[C, H, W]`: channel planes.
    Nchw,
    /// `[H, W, C]`: interleaved channels.
    Nhwc,
}

/// Which channels the model expects, in tensor channel order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelOrder {
    /// Three channels R, G, B.
    Rgb,
    /// Three channels B, G, R.
    Bgr,
    /// One channel: the luma `0.299 R + 0.587 G + 0.114 B` of the 8-bit pixel.
    Gray,
}

/// What turns an image file into the model's input tensor; recorded in artifacts.
///
/// Tensor value of channel `c` (in the model's channel order) = `(v * scale - mean[c]) / std[c]`,
/// where `v` is the pixel's channel value in 0..=255 (as f32; for gray, the unrounded luma).
/// `mean` and `std` have 1 entry (used for every channel) or one per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Preprocess {
    /// WxH to resize to; `None` = the model input's. When given it must equal the model's.
    pub size: Option<(u32, u32)>,
    pub layout: Layout,
    pub channels: ChannelOrder,
    pub scale: f32,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Default for Preprocess {
    /// NCHW, RGB, scale 1/255, mean 0, std 1: values in `[0, 1]`.
    fn default() -> Self {
        Preprocess {
            size: None,
            layout: Layout::Nchw,
            channels: ChannelOrder::Rgb,
            scale: 1.0 / 255.0,
            mean: vec![0.0],
            std: vec![1.0],
        }
    }
}

impl Preprocess {
    /// Checks these settings against the model's image geometry: same layout, channel order vs
    /// channel count, `mean`/`std` lengths (1 or C), finite values, non-zero `std`, finite non-zero
    /// scale, and `size` equal to the model's `W x H` when given.
    pub fn validate(&self, geo: &Geometry) -> Result<()> {
        let c = geo.channels;
        if self.layout != geo.layout {
            bad_input!(
                "image layout {} does not match the model input geometry's layout {}",
                layout_name(self.layout),
                layout_name(geo.layout)
            );
        }
        let wanted = match self.channels {
            ChannelOrder::Gray => 1,
            ChannelOrder::Rgb | ChannelOrder::Bgr => 3,
        };
        if wanted != c {
            bad_input!(
                "image channel order {} gives {wanted} channel(s) but the model input has {c} \
                 (use {} for a {c}-channel input)",
                channel_order_name(self.channels),
                if c == 1 { "gray" } else { "rgb or bgr" }
            );
        }
        if !self.scale.is_finite() || self.scale == 0.0 {
            bad_input!(
                "image scale must be a finite non-zero number, got {}",
                self.scale
            );
        }
        for (what, v) in [("mean", &self.mean), ("std", &self.std)] {
            if v.len() != 1 && v.len() != c {
                bad_input!(
                    "image {what} has {} values but the model input has {c} channel(s): give 1 or {c}",
                    v.len()
                );
            }
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                bad_input!("image {what} value {x} is not a finite number");
            }
        }
        if self.std.contains(&0.0) {
            bad_input!("image std values must be non-zero, got {:?}", self.std);
        }
        if let Some((w, h)) = self.size
            && (w as usize != geo.width || h as usize != geo.height)
        {
            bad_input!(
                "image size {w}x{h} does not match the model input's {}x{} (WxH)",
                geo.width,
                geo.height
            );
        }
        Ok(())
    }
}

fn layout_name(l: Layout) -> &'static str {
    match l {
        Layout::Nchw => "nchw",
        Layout::Nhwc => "nhwc",
    }
}

fn channel_order_name(c: ChannelOrder) -> &'static str {
    match c {
        ChannelOrder::Rgb => "rgb",
        ChannelOrder::Bgr => "bgr",
        ChannelOrder::Gray => "gray",
    }
}

/// The model-input axes (batch axis = 0) that `--image-size WxH` sets for a layout: `(2, H)`
/// and `(3, W)` for NCHW, `(1, H)` and `(2, W)` for NHWC. Empty without a size.
pub fn axis_sizes(pre: &Preprocess) -> Vec<(usize, usize)> {
    let Some((w, h)) = pre.size else {
        return vec![];
    };
    let (h_axis, w_axis) = match pre.layout {
        Layout::Nchw => (2, 3),
        Layout::Nhwc => (1, 2),
    };
    vec![(h_axis, h as usize), (w_axis, w as usize)]
}

/// Parses an image size `"WIDTHxHEIGHT"`, e.g. `"224x224"` (also `X`, spaces around numbers).
pub fn parse_size(s: &str) -> Result<(u32, u32)> {
    let bad = || {
        Error::Input(format!(
            "image size \"{s}\" is not WIDTHxHEIGHT with positive integers (e.g. 224x224)"
        ))
    };
    let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if w == 0 || h == 0 {
        return Err(bad());
    }
    Ok((w, h))
}

/// Parses a comma-separated list of finite numbers, e.g. `"0.485,0.456,0.406"`; `what` names
/// the option in the error message (e.g. `"--mean"`).
pub fn parse_list(s: &str, what: &str) -> Result<Vec<f32>> {
    if s.trim().is_empty() {
        bad_input!("{what} is empty: give comma-separated numbers, e.g. 0.485,0.456,0.406");
    }
    s.split(',')
        .map(|part| {
            let p = part.trim();
            match p.parse::<f32>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(Error::Input(format!(
                    "{what} \"{s}\" has \"{p}\", which is not a finite number \
                     (give comma-separated numbers, e.g. 0.485,0.456,0.406)"
                ))),
            }
        })
        .collect()
}

/// Parses a pixel scale: a number (`"0.00392"`) or a fraction (`"1/255"`, `"1/128"`). Must be
/// finite and non-zero.
pub fn parse_scale(s: &str) -> Result<f32> {
    let bad = || {
        Error::Input(format!(
            "image scale \"{s}\" is not a finite non-zero number or fraction (e.g. 1/255, 0.00392)"
        ))
    };
    let t = s.trim();
    let v = match t.split_once('/') {
        Some((a, b)) => {
            let a: f64 = a.trim().parse().map_err(|_| bad())?;
            let b: f64 = b.trim().parse().map_err(|_| bad())?;
            a / b
        }
        None => t.parse::<f64>().map_err(|_| bad())?,
    };
    let v = v as f32;
    if !v.is_finite() || v == 0.0 {
        return Err(bad());
    }
    Ok(v)
}

/// The image geometry of a model input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub layout: Layout,
}

impl Geometry {
    /// Pixels per image (`width * height`).
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// Elements per tensor row (`channels * width * height`).
    pub fn len(&self) -> usize {
        self.channels * self.width * self.height
    }

    /// Whether the tensor row is empty (never, for a geometry from [`geometry`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tensor index of channel `c` of pixel `(x, y)`.
    pub fn index(&self, c: usize, x: usize, y: usize) -> usize {
        match self.layout {
            Layout::Nchw => (c * self.height + y) * self.width + x,
            Layout::Nhwc => (y * self.width + x) * self.channels + c,
        }
    }
}

/// The image geometry implied by the model input's row shape (without batch axis) and layout:
/// nchw: `[C, H, W]`, nhwc: `[H, W, C]`, with C in {1, 3} and H, W at least 1.
pub fn geometry(row_shape: &[usize], layout: Layout) -> Result<Geometry> {
    let (name, axes) = match layout {
        Layout::Nchw => ("nchw", "[C, H, W]"),
        Layout::Nhwc => ("nhwc", "[H, W, C]"),
    };
    if row_shape.len() != 3 {
        bad_input!(
            "model input row shape {} is not an image for layout {name}: expected {axes} \
             (3 axes after the batch axis), got {} axes",
            shape_string(row_shape),
            row_shape.len()
        );
    }
    let (c, h, w) = match layout {
        Layout::Nchw => (row_shape[0], row_shape[1], row_shape[2]),
        Layout::Nhwc => (row_shape[2], row_shape[0], row_shape[1]),
    };
    if c != 1 && c != 3 {
        bad_input!(
            "model input row shape {} is not an image for layout {name} {axes}: \
             C = {c}, expected 1 (gray) or 3 (colour){}",
            shape_string(row_shape),
            match layout {
                Layout::Nchw if row_shape[2] == 1 || row_shape[2] == 3 => "; try layout nhwc",
                Layout::Nhwc if row_shape[0] == 1 || row_shape[0] == 3 => "; try layout nchw",
                _ => "",
            }
        );
    }
    if h == 0 || w == 0 {
        bad_input!(
            "model input row shape {} for layout {name} {axes} has an empty image ({w}x{h})",
            shape_string(row_shape)
        );
    }
    Ok(Geometry {
        width: w,
        height: h,
        channels: c,
        layout,
    })
}

/// A decoded, resized and preprocessed image.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedImage {
    /// The path as given, for messages and artifacts.
    pub path: String,
    pub width: usize,
    pub height: usize,
    /// `height * width * 3` sRGB values in `[0, 1]` (8-bit value / 255) after resizing,
    /// row-major, for segmentation and plots.
    pub rgb: Vec<f32>,
    /// The preprocessed model input row, in the model's layout ([`Geometry::len`] values).
    pub tensor: Vec<f32>,
}

/// Decodes a .png/.jpg file (format guessed from its content), converts it to 8-bit RGB (alpha
/// dropped, 16-bit scaled down), resizes it to the geometry with the deterministic Triangle
/// filter if its size differs, then preprocesses it into the model tensor.
///
/// Errors (`Error::Input`): the file cannot be read or decoded ("image file X cannot be
/// decoded: …"), or `pre` does not fit `geo` (see [`Preprocess::validate`]).
pub fn load(path: &Path, pre: &Preprocess, geo: &Geometry) -> Result<LoadedImage> {
    pre.validate(geo)?;
    let shown = path.display().to_string();
    // The model-sized image, its RGB copy and the tensor: 9 bytes a pixel.
    crate::util::limits::check_memory(
        crate::util::limits::product(&[geo.width as u64, geo.height as u64, 9]),
        &format!("the model's image size {}x{}", geo.width, geo.height),
        "give --image-size a smaller size, or use a model with smaller inputs",
    )?;
    let mut reader = ImageReader::open(path)
        .map_err(|e| Error::Input(format!("image file {shown} cannot be decoded: {e}")))?
        .with_guessed_format()
        .map_err(|e| Error::Input(format!("image file {shown} cannot be decoded: {e}")))?;
    // The decoder checks the dimensions in the file's header against this before allocating.
    let mut limits = ::image::Limits::default();
    limits.max_alloc = Some(crate::util::limits::max_memory());
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| Error::Input(format!("image file {shown} cannot be decoded: {e}")))?;
    let mut img: RgbImage = decoded.to_rgb8();
    let (w, h) = (geo.width as u32, geo.height as u32);
    if geo.width > u32::MAX as usize || geo.height > u32::MAX as usize {
        bad_input!("model image size {}x{} is too large", geo.width, geo.height);
    }
    if img.dimensions() != (w, h) {
        img = ::image::imageops::resize(&img, w, h, FilterType::Triangle);
    }
    let raw = img.as_raw();
    let rgb: Vec<f32> = raw.iter().map(|&v| v as f32 / 255.0).collect();
    let tensor = preprocess_rgb8(raw, pre, geo);
    Ok(LoadedImage {
        path: shown,
        width: geo.width,
        height: geo.height,
        rgb,
        tensor,
    })
}

/// Applies `pre` to row-major 8-bit RGB pixels (`geo.pixels() * 3` values) and lays the result
/// out as `geo` says. `pre` must already fit `geo` ([`Preprocess::validate`]).
pub fn preprocess_rgb8(raw: &[u8], pre: &Preprocess, geo: &Geometry) -> Vec<f32> {
    assert_eq!(
        raw.len(),
        geo.pixels() * 3,
        "RGB8 buffer does not match the geometry"
    );
    let c_n = geo.channels;
    let pick = |v: &[f32], c: usize| if v.len() == 1 { v[0] } else { v[c] };
    let mean: Vec<f32> = (0..c_n).map(|c| pick(&pre.mean, c)).collect();
    let std: Vec<f32> = (0..c_n).map(|c| pick(&pre.std, c)).collect();
    let mut tensor = vec![0.0f32; geo.len()];
    for (i, px) in raw.chunks_exact(3).enumerate() {
        let (x, y) = (i % geo.width, i / geo.width);
        let (r, g, b) = (px[0] as f32, px[1] as f32, px[2] as f32);
        let values: [f32; 3] = match pre.channels {
            ChannelOrder::Rgb => [r, g, b],
            ChannelOrder::Bgr => [b, g, r],
            ChannelOrder::Gray => [0.299 * r + 0.587 * g + 0.114 * b, 0.0, 0.0],
        };
        for c in 0..c_n {
            tensor[geo.index(c, x, y)] = (values[c] * pre.scale - mean[c]) / std[c];
        }
    }
    tensor
}

/// Expands per-pixel feature ids (`height * width`, row-major) to per-element ids of the model
/// tensor: every channel of a pixel gets the pixel's id.
///
/// Panics if `pixel_ids.len() != geo.width * geo.height`.
pub fn pixel_ids_to_elements(pixel_ids: &[u32], geo: &Geometry) -> Vec<u32> {
    assert_eq!(
        pixel_ids.len(),
        geo.pixels(),
        "pixel feature ids do not match the {}x{} image",
        geo.width,
        geo.height
    );
    match geo.layout {
        Layout::Nchw => {
            let mut out = Vec::with_capacity(geo.len());
            for _ in 0..geo.channels {
                out.extend_from_slice(pixel_ids);
            }
            out
        }
        Layout::Nhwc => pixel_ids
            .iter()
            .flat_map(|&id| std::iter::repeat_n(id, geo.channels))
            .collect(),
    }
}

/// Normalised 1-D Gaussian weights for offsets `-r..=r`, `r = ceil(3 sigma)`.
fn gaussian_kernel(sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as i64;
    let w: Vec<f64> = (-r..=r)
        .map(|k| (-((k * k) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|v| v / total).collect()
}

/// Gaussian-blurred copy of an image tensor, in the same layout: a separable Gaussian
/// (horizontal then vertical) on each channel plane, radius `ceil(3 sigma)` pixels, normalised
/// weights, edges clamped (border pixels repeated), accumulated in f64. Deterministic for any
/// thread count. `sigma <= 0` (or not finite) returns the tensor unchanged. Cost grows
/// linearly with `sigma` (`O(C·H·W·sigma)`), so callers should bound it (e.g. to `max(W, H)`).
///
/// Panics if `tensor.len() != geo.len()`.
pub fn blur_baseline(tensor: &[f32], geo: &Geometry, sigma: f32) -> Vec<f32> {
    assert_eq!(
        tensor.len(),
        geo.len(),
        "tensor does not match the image geometry"
    );
    if !(sigma.is_finite() && sigma > 0.0) {
        return tensor.to_vec();
    }
    let (w, h) = (geo.width, geo.height);
    let kernel = gaussian_kernel(sigma as f64);
    let r = (kernel.len() / 2) as i64;
    let clamp = |v: i64, n: usize| v.clamp(0, n as i64 - 1) as usize;
    let mut out = vec![0.0f32; tensor.len()];
    for c in 0..geo.channels {
        let plane: Vec<f64> = (0..w * h)
            .map(|i| tensor[geo.index(c, i % w, i / w)] as f64)
            .collect();
        let mut horizontal = vec![0.0f64; w * h];
        horizontal
            .par_chunks_mut(w)
            .enumerate()
            .for_each(|(y, row)| {
                let src = &plane[y * w..(y + 1) * w];
                for (x, o) in row.iter_mut().enumerate() {
                    let mut acc = 0.0f64;
                    for (k, wk) in kernel.iter().enumerate() {
                        acc += wk * src[clamp(x as i64 + k as i64 - r, w)];
                    }
                    *o = acc;
                }
            });
        let mut vertical = vec![0.0f64; w * h];
        vertical.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (x, o) in row.iter_mut().enumerate() {
                let mut acc = 0.0f64;
                for (k, wk) in kernel.iter().enumerate() {
                    acc += wk * horizontal[clamp(y as i64 + k as i64 - r, h) * w + x];
                }
                *o = acc;
            }
        });
        for (i, v) in vertical.iter().enumerate() {
            out[geo.index(c, i % w, i / w)] = *v as f32;
        }
    }
    out
}

/// Baseline with every pixel set to the image's per-channel mean (f64 sum in pixel order).
///
/// Panics if `tensor.len() != geo.len()`.
pub fn mean_baseline(tensor: &[f32], geo: &Geometry) -> Vec<f32> {
    assert_eq!(
        tensor.len(),
        geo.len(),
        "tensor does not match the image geometry"
    );
    let (w, h) = (geo.width, geo.height);
    let mut out = vec![0.0f32; tensor.len()];
    for c in 0..geo.channels {
        let mut sum = 0.0f64;
        for y in 0..h {
            for x in 0..w {
                sum += tensor[geo.index(c, x, y)] as f64;
            }
        }
        let mean = (sum / (w * h) as f64) as f32;
        for y in 0..h {
            for x in 0..w {
                out[geo.index(c, x, y)] = mean;
            }
        }
    }
    out
}

// The messages follow a key that names the setting (`[image] layout: 'x': use nchw or nhwc`).
crate::vocabulary!(Layout, |s| format!("'{s}': use nchw or nhwc"), {
    Nchw => "nchw",
    Nhwc => "nhwc",
});

crate::vocabulary!(ChannelOrder, |s| format!("'{s}': use rgb, bgr or gray"), {
    Rgb => "rgb",
    Bgr => "bgr",
    Gray => "gray",
});
