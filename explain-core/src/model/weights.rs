//! Rewriting the float weights of an ONNX file in place (the randomisation check's
//! randomised copies), without re-encoding the model.

use crate::math::sampling::{StreamKey, unit_f64};
use crate::{Error, Result, bad_input};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

// ---------------------------------------------------------------------------------------
// Rewriting weights in an ONNX file.
//
// tract decodes the protobuf but explain-core has no protobuf encoder of its own, and
// re-encoding a model could reorder or drop fields anyway. Float weights have a fixed width
// (raw_data: little-endian f32; float_data: packed or unpacked fixed32, also little-endian),
// so new values are written *in place* over the old ones: every other byte of the file stays
// as it was. A small wire-format walker finds the byte ranges; the decoded model (tract's
// `pb` types) gives the graph, the names and the shapes, and the walker's reading is checked
// against it bit for bit.

/// A float32 initializer stored in the file, with where its values lie.
struct Stored {
    name: String,
    /// Byte ranges of the values, in element order (4 bytes per value).
    ranges: Vec<Range<usize>>,
    len: usize,
}

impl Stored {
    fn read(&self, bytes: &[u8]) -> Vec<f32> {
        self.ranges
            .iter()
            .flat_map(|r| bytes[r.clone()].chunks_exact(4))
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }

    fn write(&self, bytes: &mut [u8], values: &[f32]) {
        let mut values = values.iter();
        for r in &self.ranges {
            for dst in bytes[r.clone()].chunks_exact_mut(4) {
                if let Some(v) = values.next() {
                    dst.copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of the message in `buf[range]`: (number, wire type, payload range).
fn fields(buf: &[u8], range: Range<usize>) -> Option<Vec<(u64, u8, Range<usize>)>> {
    let buf = buf.get(..range.end)?;
    let mut pos = range.start;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (number, wire) = (key >> 3, (key & 7) as u8);
        let start = match wire {
            0 => {
                let start = pos;
                varint(buf, &mut pos)?;
                start
            }
            1 => {
                pos = pos.checked_add(8)?;
                pos - 8
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                pos = pos.checked_add(len)?;
                pos - len
            }
            5 => {
                pos = pos.checked_add(4)?;
                pos - 4
            }
            _ => return None,
        };
        if pos > buf.len() {
            return None;
        }
        out.push((number, wire, start..pos));
    }
    Some(out)
}

/// Where one initializer's values lie: the `float_data` payloads and the `raw_data` one.
type Payload = (Vec<Range<usize>>, Vec<Range<usize>>);

/// The payload ranges of every initializer of the model's graph, in file order: `None`
/// when the bytes are not a protobuf message this walker understands.
fn initializer_ranges(bytes: &[u8]) -> Option<Vec<Payload>> {
    const MODEL_GRAPH: u64 = 7;
    const GRAPH_INITIALIZER: u64 = 5;
    const TENSOR_FLOAT_DATA: u64 = 4;
    const TENSOR_RAW_DATA: u64 = 9;
    let graphs: Vec<Range<usize>> = fields(bytes, 0..bytes.len())?
        .into_iter()
        .filter(|f| f.0 == MODEL_GRAPH && f.1 == 2)
        .map(|f| f.2)
        .collect();
    if graphs.len() != 1 {
        return None;
    }
    let mut out = Vec::new();
    for (number, wire, range) in fields(bytes, graphs[0].clone())? {
        if number != GRAPH_INITIALIZER || wire != 2 {
            continue;
        }
        let (mut floats, mut raw) = (Vec::new(), Vec::new());
        for (number, wire, range) in fields(bytes, range)? {
            match (number, wire) {
                (TENSOR_FLOAT_DATA, 2 | 5) => floats.push(range),
                // A repeated bytes field: the last occurrence wins.
                (TENSOR_RAW_DATA, 2) => raw = vec![range],
                _ => {}
            }
        }
        out.push((floats, raw));
    }
    Some(out)
}

/// The decoded model and its float32 initializers stored in the file (by name).
fn stored_floats(bytes: &[u8]) -> Result<(tract_onnx::pb::ModelProto, BTreeMap<String, Stored>)> {
    use tract_onnx::pb::tensor_proto::DataType;
    use tract_onnx::prelude::Framework as _;
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| Error::Input(format!("cannot decode the model: {e:#}")))?;
    let Some(graph) = proto.graph.as_ref() else {
        bad_input!("the model has no graph");
    };
    let Some(ranges) = initializer_ranges(bytes) else {
        bad_input!("cannot locate the initializers in the model's protobuf encoding");
    };
    if ranges.len() != graph.initializer.len() {
        bad_input!(
            "found {} initializers in the model's protobuf encoding where tract decodes {}",
            ranges.len(),
            graph.initializer.len()
        );
    }
    let mut stored = BTreeMap::new();
    for (t, (floats, raw)) in graph.initializer.iter().zip(ranges) {
        if t.data_type != DataType::Float as i32 {
            continue;
        }
        let len = t
            .dims
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?));
        let Some(len) = len else { continue };
        let (ranges, expect): (Vec<Range<usize>>, Vec<f32>) = if !t.raw_data.is_empty() {
            let values = t
                .raw_data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (raw, values)
        } else {
            (floats, t.float_data.clone())
        };
        let candidate = Stored {
            name: t.name.clone(),
            ranges,
            len,
        };
        let got = candidate.read(bytes);
        // Weights kept outside the file, or an encoding this walker misread, are left out.
        if got.len() != len
            || expect.len() != len
            || got
                .iter()
                .zip(&expect)
                .any(|(a, b)| a.to_bits() != b.to_bits())
        {
            continue;
        }
        stored.insert(t.name.clone(), candidate);
    }
    Ok((proto, stored))
}

/// Applies `f` to the values of every float32 initializer stored in the ONNX model `bytes`
/// (name, values) and returns the rewritten model. Values are rewritten in place, so every
/// other byte of the file is kept; `f` must not change the number of values (extra changes
/// are ignored). Initializers kept in external files are skipped.
pub fn map_float_initializers(
    bytes: &[u8],
    mut f: impl FnMut(&str, &mut Vec<f32>),
) -> Result<Vec<u8>> {
    let (_, stored) = stored_floats(bytes)?;
    let mut out = bytes.to_vec();
    for s in stored.values() {
        let mut values = s.read(bytes);
        f(&s.name, &mut values);
        s.write(&mut out, &values);
    }
    Ok(out)
}

/// A model with randomised weights: its bytes, the initializers rewritten and how many
/// values they hold.
pub(crate) struct Randomised {
    pub bytes: Vec<u8>,
    pub names: Vec<String>,
    pub parameters: usize,
}

/// The model with the float weights of its last `layers` parameterised layers (on the path
/// to `output`) randomised as [`crate::artifact::attributions::Randomisation`] describes; `None` when there are none.
pub(crate) fn randomise_last_layers(
    bytes: &[u8],
    output: &str,
    layers: usize,
    key: &StreamKey,
) -> Result<Option<Randomised>> {
    let (proto, stored) = stored_floats(bytes)?;
    let Some(graph) = proto.graph.as_ref() else {
        return Ok(None);
    };
    let nodes = &graph.node;
    let weights = |n: usize| -> Vec<&str> {
        nodes[n]
            .input
            .iter()
            .filter(|i| stored.get(i.as_str()).is_some_and(|s| s.len >= 2))
            .map(|i| i.as_str())
            .collect()
    };
    // Nodes the output depends on (ONNX graphs are topologically sorted).
    let mut needed: BTreeSet<&str> = BTreeSet::from([output]);
    let mut ancestor = vec![false; nodes.len()];
    for (n, node) in nodes.iter().enumerate().rev() {
        if node.output.iter().any(|o| needed.contains(o.as_str())) {
            ancestor[n] = true;
            needed.extend(node.input.iter().map(|i| i.as_str()));
        }
    }
    let mut producer: BTreeMap<&str, usize> = BTreeMap::new();
    let mut consumers: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, node) in nodes.iter().enumerate() {
        for o in &node.output {
            producer.insert(o.as_str(), n);
        }
        for i in &node.input {
            *consumers.entry(i.as_str()).or_default() += 1;
        }
    }
    for o in &graph.output {
        *consumers.entry(o.name.as_str()).or_default() += 1;
    }
    let parameterised: Vec<bool> = (0..nodes.len()).map(|n| !weights(n).is_empty()).collect();
    // The layer a parameterised node belongs to: its own, or its producer's when it is an
    // elementwise affine step on that producer's sole output.
    let mut root: Vec<usize> = (0..nodes.len()).collect();
    for (n, node) in nodes.iter().enumerate() {
        if !parameterised[n]
            || !matches!(
                node.op_type.as_str(),
                "Add" | "Sub" | "Mul" | "Div" | "BatchNormalization"
            )
        {
            continue;
        }
        let data: Vec<&str> = node
            .input
            .iter()
            .filter(|i| !i.is_empty() && !stored.contains_key(i.as_str()))
            .map(|i| i.as_str())
            .collect();
        if let [input] = data[..]
            && let Some(&p) = producer.get(input)
            && parameterised[p]
            && consumers.get(input) == Some(&1)
        {
            root[n] = root[p];
        }
    }
    let mut chosen: Vec<usize> = Vec::new();
    for n in (0..nodes.len()).rev() {
        if ancestor[n] && parameterised[n] && !chosen.contains(&root[n]) {
            if chosen.len() == layers {
                break;
            }
            chosen.push(root[n]);
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for n in 0..nodes.len() {
        if ancestor[n] && parameterised[n] && chosen.contains(&root[n]) {
            for w in weights(n) {
                if !names.contains(&w) {
                    names.push(w);
                }
            }
        }
    }
    if names.is_empty() {
        return Ok(None);
    }
    let index: BTreeMap<&str, usize> = graph
        .initializer
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    let mut out = bytes.to_vec();
    let mut parameters = 0;
    for name in &names {
        let s = &stored[*name];
        let original = s.read(bytes);
        let n = original.len() as f64;
        let mean = original.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = original
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let std = var.sqrt();
        let non_negative = original.iter().all(|&v| v >= 0.0);
        let mut rng = key.stream(index[name] as u64);
        let values: Vec<f32> = (0..original.len())
            .map(|_| {
                // Box–Muller from two uniforms; 1 − u is in (0, 1].
                let (u1, u2) = (1.0 - unit_f64(&mut rng), unit_f64(&mut rng));
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let v = mean + std * z;
                (if non_negative { v.abs() } else { v }) as f32
            })
            .collect();
        s.write(&mut out, &values);
        parameters += original.len();
    }
    Ok(Some(Randomised {
        bytes: out,
        names: names.into_iter().map(String::from).collect(),
        parameters,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walker_reads_varints_and_fields() {
        // field 1 varint 300, field 2 bytes "ab", field 5 fixed32.
        let buf = [0x08, 0xac, 0x02, 0x12, 0x02, b'a', b'b', 0x2d, 1, 2, 3, 4];
        let f = fields(&buf, 0..buf.len()).unwrap();
        assert_eq!(f, vec![(1, 0, 1..3), (2, 2, 5..7), (5, 5, 8..12)]);
        assert!(fields(&buf[..6], 0..6).is_none());
    }
}
