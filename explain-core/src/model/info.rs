//! What a model file declares, read straight from its protobuf: inputs, outputs, opset,
//! producer, SHA-256 and external-data files ([`inspect`]).

use crate::util::limits::shape_string;
use crate::util::provenance::sha256_hex;
use crate::{Error, Result, bad_input};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tract_onnx::pb;
use tract_onnx::prelude::*;

/// One dimension of a declared tensor shape.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Dim {
    /// A fixed size.
    Fixed(u64),
    /// A named symbolic size (`dim_param`), or `"?"` when the file leaves it unnamed.
    Symbolic(String),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbolic(s) => write!(f, "{s}"),
        }
    }
}

/// Name, declared shape and element type of a model input or output.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<Dim>,
    pub dtype: String,
}

impl TensorInfo {
    /// The shape as people write it: `[N, 3, 224, 224]`.
    pub fn shape_string(&self) -> String {
        shape_string(&self.shape)
    }
}

/// An operator set the model imports.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Opset {
    pub domain: String,
    pub version: i64,
}

/// What a model file declares, as printed by `explain inspect`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ModelInfo {
    pub path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub ir_version: i64,
    /// The default-domain (`ai.onnx`) opset version, 0 if none is imported.
    pub opset: i64,
    pub opsets: Vec<Opset>,
    pub producer: String,
    pub producer_version: String,
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
    /// Files beside the model that hold its weights (ONNX external data), relative to the
    /// model's directory, with their SHA-256: part of the model as much as the file itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_data: Vec<ExternalData>,
}

/// A file of a model's weights (ONNX external data).
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ExternalData {
    /// As the model names it: relative to the model's directory.
    pub location: String,
    pub sha256: String,
}

impl ModelInfo {
    /// The external data files, as paths.
    pub fn external_paths(&self) -> Vec<PathBuf> {
        let dir = Path::new(&self.path).parent().unwrap_or(Path::new(""));
        self.external_data
            .iter()
            .map(|e| dir.join(&e.location))
            .collect()
    }
}

/// The external data files a model's initializers name, checked to lie inside the model's
/// directory and to exist, with their hashes.
fn external_data(graph: &pb::GraphProto, path: &Path) -> Result<Vec<ExternalData>> {
    use std::path::Component;
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut locations = std::collections::BTreeSet::new();
    for t in &graph.initializer {
        if let Some(l) = t.external_data.iter().find(|e| e.key == "location") {
            locations.insert(l.value.clone());
        }
    }
    locations
        .into_iter()
        .map(|location| {
            let rel = Path::new(&location);
            if !rel.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
                bad_input!(
                    "model file {} keeps weights in '{location}', which is not a path inside the model's directory",
                    path.display()
                );
            }
            let file = dir.join(rel);
            if !file.is_file() {
                bad_input!(
                    "model file {} keeps its weights in {}, which does not exist (copy it beside the model)",
                    path.display(),
                    file.display()
                );
            }
            Ok(ExternalData {
                sha256: crate::util::provenance::sha256_file(&file)?,
                location,
            })
        })
        .collect()
}

/// Reads a model file's declarations without building it.
///
/// Fails with [`Error::Input`] (naming the file) when the file is missing or is not ONNX.
pub fn inspect(path: &Path) -> Result<ModelInfo> {
    Ok(read_proto(&read_model_file(path)?, path)?.1)
}

pub(crate) fn read_model_file(path: &Path) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bad_input!("model file {} does not exist", path.display())
        }
        Err(e) => bad_input!("cannot read model file {}: {e}", path.display()),
    }
}

/// Decodes the model `bytes` named `path` (for messages, and the directory of its external
/// data).
pub(crate) fn read_proto(bytes: &[u8], path: &Path) -> Result<(pb::ModelProto, ModelInfo)> {
    let not_onnx = |why: String| {
        Error::Input(format!(
            "model file {} is not a valid ONNX model: {why}",
            path.display()
        ))
    };
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| not_onnx(format!("{e:#}")))?;
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| not_onnx("it has no graph".into()))?;
    if graph.node.is_empty() || graph.output.is_empty() {
        return Err(not_onnx("its graph has no nodes or no outputs".into()));
    }
    let initializers: std::collections::BTreeSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs = graph
        .input
        .iter()
        .filter(|v| !initializers.contains(v.name.as_str()))
        .map(tensor_info)
        .collect();
    let outputs = graph.output.iter().map(tensor_info).collect();
    let opsets: Vec<Opset> = proto
        .opset_import
        .iter()
        .map(|o| Opset {
            domain: o.domain.clone(),
            version: o.version,
        })
        .collect();
    let opset = opsets
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .unwrap_or(0);
    let info = ModelInfo {
        path: path.display().to_string(),
        sha256: sha256_hex(bytes),
        size_bytes: bytes.len() as u64,
        ir_version: proto.ir_version,
        opset,
        opsets,
        producer: proto.producer_name.clone(),
        producer_version: proto.producer_version.clone(),
        inputs,
        outputs,
        external_data: external_data(graph, path)?,
    };
    Ok((proto, info))
}

fn tensor_info(v: &pb::ValueInfoProto) -> TensorInfo {
    use pb::tensor_shape_proto::dimension::Value;
    let tensor = v.r#type.as_ref().and_then(|t| match &t.value {
        Some(pb::type_proto::Value::TensorType(t)) => Some(t),
        _ => None,
    });
    let shape = tensor
        .and_then(|t| t.shape.as_ref())
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(Value::DimValue(n)) if *n >= 0 => Dim::Fixed(*n as u64),
                    Some(Value::DimParam(p)) if !p.is_empty() => Dim::Symbolic(p.clone()),
                    _ => Dim::Symbolic("?".into()),
                })
                .collect()
        })
        .unwrap_or_default();
    let dtype = tensor
        .and_then(|t| pb::tensor_proto::DataType::try_from(t.elem_type).ok())
        .map(|d| format!("{d:?}").to_lowercase())
        .unwrap_or_else(|| "unknown".into());
    let dtype = match dtype.as_str() {
        "float" => "float32".to_string(),
        "double" => "float64".to_string(),
        _ => dtype,
    };
    TensorInfo {
        name: v.name.clone(),
        shape,
        dtype,
    }
}
