//! Audio: reading WAV files into fixed-length model windows, time-segment features, and audio
//! baselines (silence, seeded noise).
//!
//! A clip is read as mono (one chosen channel, or the first), checked against the sample rate
//! the model expects (or resampled with `--resample`), and cut into consecutive windows of the
//! model's input length; each window is explained as its own row.

use crate::input::features::FeatureMap;
use crate::math::sampling::{StreamKey, unit_f64};
use crate::{Error, Result, bad_input};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How a WAV file becomes model rows; recorded in artifacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AudioPreprocess {
    /// The rate the model expects, in Hz.
    pub sample_rate: u32,
    /// Which channel to read from a multi-channel file (0-based); the first when `None`. Mono
    /// files are read as they are.
    pub channel: Option<usize>,
    /// Resample clips whose rate differs (otherwise that is an error).
    pub resample: bool,
}

/// A clip at the model's sample rate, mono, samples in [-1, 1].
#[derive(Debug, Clone)]
pub struct Clip {
    pub path: String,
    /// The file's own rate.
    pub source_rate: u32,
    pub channels: u16,
    pub samples: Vec<f32>,
}

/// Reads a 16/24/32-bit PCM or 32-bit float WAV file.
pub fn read_wav(path: &Path, pre: &AudioPreprocess) -> Result<Clip> {
    let mut reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(io) if io.kind() == std::io::ErrorKind::NotFound => {
            Error::Input(format!("audio file {} does not exist", path.display()))
        }
        e => Error::Input(format!(
            "audio file {} is not a readable WAV file: {e}",
            path.display()
        )),
    })?;
    let spec = reader.spec();
    // The header's sample count must fit the file (the samples are collected into memory,
    // sized by it) and the memory bound.
    let claimed = reader.len() as u64 * u64::from(spec.bits_per_sample).div_ceil(8);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if claimed > size {
        bad_input!(
            "audio file {} claims {} samples ({}) in a file of {}",
            path.display(),
            reader.len(),
            crate::util::limits::human(claimed as f64),
            crate::util::limits::human(size as f64)
        );
    }
    crate::util::limits::check_memory(
        (reader.len() as u64).checked_mul(8),
        &format!("audio file {}", path.display()),
        "give a shorter clip",
    )?;
    let channels = spec.channels as usize;
    // A mono file is the same signal on every channel: it is read as is.
    let channel = if channels == 1 {
        0
    } else {
        pre.channel.unwrap_or(0)
    };
    if channel >= channels {
        bad_input!(
            "audio file {} has {channels} channels; --channel {channel} does not exist (channels count from 0)",
            path.display()
        );
    }
    let bad = |e: hound::Error| {
        Error::Input(format!(
            "audio file {} cannot be decoded: {e}",
            path.display()
        ))
    };
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .collect::<std::result::Result<_, _>>()
            .map_err(bad)?,
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f64;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| (v as f64 * scale) as f32))
                .collect::<std::result::Result<_, _>>()
                .map_err(bad)?
        }
        (format, bits) => bad_input!(
            "audio file {} has {bits}-bit {format:?} samples; explain reads 8/16/24/32-bit PCM and 32-bit float WAV",
            path.display()
        ),
    };
    if let Some(i) = interleaved.iter().position(|v| !v.is_finite()) {
        bad_input!(
            "audio file {} has a non-finite sample ({}) at sample {} of channel {}",
            path.display(),
            interleaved[i],
            i / channels,
            i % channels
        );
    }
    let mono: Vec<f32> = interleaved
        .iter()
        .skip(channel)
        .step_by(channels)
        .copied()
        .collect();
    let samples = if spec.sample_rate == pre.sample_rate {
        mono
    } else if pre.resample {
        resample(&mono, spec.sample_rate, pre.sample_rate)
            .map_err(|e| Error::Input(format!("cannot resample {}: {e}", path.display())))?
    } else {
        bad_input!(
            "audio file {} is sampled at {} Hz but the model expects {} Hz (--sample-rate); pass --resample to convert it",
            path.display(),
            spec.sample_rate,
            pre.sample_rate
        );
    };
    Ok(Clip {
        path: path.display().to_string(),
        source_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
    })
}

/// Band-limited resampling (rubato's FFT resampler, f64).
fn resample(samples: &[f32], from: u32, to: u32) -> std::result::Result<Vec<f32>, String> {
    use rubato::audioadapter_buffers::owned::InterleavedOwned;
    use rubato::{Fft, FixedSync, Resampler};
    let data: Vec<f64> = samples.iter().map(|v| *v as f64).collect();
    let len = data.len();
    let input = InterleavedOwned::new_from(data, 1, len).map_err(|e| e.to_string())?;
    let mut r = Fft::<f64>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| e.to_string())?;
    let out = r
        .process_all(&input, len, None)
        .map_err(|e| e.to_string())?;
    Ok(out.take_data().into_iter().map(|v| v as f32).collect())
}

/// Consecutive windows of `len` samples (a trailing partial window is dropped). Each comes
/// with its start offset in samples. Fails when the clip is shorter than one window.
pub fn windows(clip: &Clip, len: usize, sample_rate: u32) -> Result<Vec<(usize, Vec<f32>)>> {
    if clip.samples.len() < len {
        bad_input!(
            "audio file {} is too short: {} samples ({:.3} s at {sample_rate} Hz), but the model takes windows of {len} samples ({:.3} s)",
            clip.path,
            clip.samples.len(),
            clip.samples.len() as f64 / sample_rate as f64,
            len as f64 / sample_rate as f64
        );
    }
    Ok((0..clip.samples.len() / len)
        .map(|w| (w * len, clip.samples[w * len..(w + 1) * len].to_vec()))
        .collect())
}

/// `segments:N`: `n` equal time segments over a window of `len` samples; segment `k` holds
/// samples `[k·len/n, (k+1)·len/n)`, so the segments partition the window exactly.
pub fn segments(len: usize, n: usize, sample_rate: u32) -> Result<FeatureMap> {
    if n == 0 || n > len {
        bad_input!("segments:{n}: need between 1 and {len} segments for a window of {len} samples");
    }
    let ids = (0..len).map(|j| (j * n / len) as u32).collect();
    let names = (0..n)
        .map(|k| {
            let (a, b) = (k * len / n, (k + 1) * len / n);
            format!(
                "{:.1}-{:.1} ms",
                a as f64 * 1000.0 / sample_rate as f64,
                b as f64 * 1000.0 / sample_rate as f64
            )
        })
        .collect();
    FeatureMap::new(ids, names)
}

/// The sample range `[start, end)` of each feature of a time-segment map.
pub fn segment_bounds(map: &FeatureMap) -> Vec<(usize, usize)> {
    map.elements
        .iter()
        .map(|e| (e[0] as usize, *e.last().expect("non-empty") as usize + 1))
        .collect()
}

/// Gaussian noise with standard deviation `level`, from the explanation's seeded stream.
pub fn noise(len: usize, level: f32, key: &StreamKey) -> Vec<f32> {
    let mut rng = key.stream(u64::MAX);
    (0..len)
        .map(|_| {
            // Box–Muller on two uniforms in (0, 1].
            let u1 = 1.0 - unit_f64(&mut rng);
            let u2 = unit_f64(&mut rng);
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32 * level
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_partition_the_window() {
        let map = segments(576, 7, 16000).unwrap();
        assert_eq!(map.len(), 7);
        let bounds = segment_bounds(&map);
        assert_eq!(bounds[0].0, 0);
        assert_eq!(bounds[6].1, 576);
        for w in bounds.windows(2) {
            assert_eq!(w[0].1, w[1].0);
        }
        assert!(segments(10, 11, 16000).is_err());
    }

    #[test]
    fn noise_is_seeded_and_scaled() {
        let key = StreamKey::derive(1, "m", "x", 0, "noise");
        let a = noise(20_000, 0.1, &key);
        assert_eq!(a, noise(20_000, 0.1, &key));
        let sd = (a.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
        assert!((sd - 0.1).abs() < 0.005, "sd {sd}");
    }
}
