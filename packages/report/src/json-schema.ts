/**
 * The JSON Schema (draft 2020-12) of report version 1. `schema/report.v1.json` is this object written
 * out by `npm run schema -w @modelpass/report` (a test checks that the two agree).
 */
export const REPORT_JSON_SCHEMA = 
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://modelpass.dev/schema/report.v1.json",
  "title": "modelpass report, version 1",
  "description": "What a modelpass command (convert, compare, eval, diff, inspect) did and measured. Documented field by field in @modelpass/report's README.",
  "type": "object",
  "required": ["schemaVersion", "tool", "command", "createdAt", "inputs", "passes", "layers"],
  "additionalProperties": false,
  "properties": {
    "schemaVersion": { "const": 1 },
    "tool": {
      "type": "object",
      "required": ["name", "version"],
      "additionalProperties": false,
      "properties": { "name": { "type": "string" }, "version": { "type": "string" } }
    },
    "command": { "enum": ["convert", "compare", "eval", "diff", "inspect"] },
    "argv": { "type": "array", "items": { "type": "string" } },
    "createdAt": { "type": "string", "format": "date-time" },
    "inputs": { "type": "array", "items": { "$ref": "#/$defs/input" } },
    "pipeline": { "type": "string" },
    "passes": { "type": "array", "items": { "$ref": "#/$defs/pass" } },
    "models": {
      "type": "object",
      "required": ["before"],
      "additionalProperties": false,
      "properties": { "before": { "$ref": "#/$defs/modelSummary" }, "after": { "$ref": "#/$defs/modelSummary" } }
    },
    "accuracy": {
      "type": "object",
      "additionalProperties": false,
      "properties": { "before": { "$ref": "#/$defs/accuracy" }, "after": { "$ref": "#/$defs/accuracy" } }
    },
    "latency": {
      "type": "object",
      "additionalProperties": false,
      "properties": { "before": { "$ref": "#/$defs/latency" }, "after": { "$ref": "#/$defs/latency" } }
    },
    "layers": { "type": "array", "items": { "$ref": "#/$defs/layer" } },
    "comparison": { "$ref": "#/$defs/outputsCheck" },
    "diff": { "$ref": "#/$defs/modelDiff" },
    "check": { "$ref": "#/$defs/check" },
    "diagnostics": {
      "type": "array",
      "items": {
        "type": "object",
        "required": ["severity", "reason"],
        "additionalProperties": false,
        "properties": {
          "severity": { "enum": ["error", "warning", "note"] },
          "reason": { "type": "string" },
          "location": { "type": "string" }
        }
      }
    }
  },
  "$defs": {
    "reportNumber": {
      "description": "A number; infinite or NaN metrics are written as strings because JSON has no infinity.",
      "oneOf": [{ "type": "number" }, { "enum": ["Infinity", "-Infinity", "NaN"] }]
    },
    "count": { "type": "integer", "minimum": 0 },
    "fraction": { "type": "number", "minimum": 0, "maximum": 1 },
    "countMap": { "type": "object", "additionalProperties": { "type": "number", "minimum": 0 } },
    "cosine": { "type": ["number", "null"] },
    "sourceKind": { "enum": ["graph-input", "constant", "node", "none"] },
    "signature": {
      "type": "object",
      "required": ["name", "type"],
      "additionalProperties": false,
      "properties": { "name": { "type": "string" }, "type": { "type": "string" } }
    },
    "input": {
      "type": "object",
      "required": ["role", "path"],
      "additionalProperties": false,
      "properties": {
        "role": { "type": "string" },
        "path": { "type": "string" },
        "format": { "type": "string" },
        "bytes": { "$ref": "#/$defs/count" }
      }
    },
    "pass": {
      "type": "object",
      "required": ["index", "name", "options", "timeMs", "changed", "statistics"],
      "additionalProperties": false,
      "properties": {
        "index": { "type": "integer", "minimum": 1 },
        "name": { "type": "string" },
        "nesting": { "type": "array", "items": { "type": "string" } },
        "options": { "type": "object" },
        "timeMs": { "type": "number", "minimum": 0 },
        "changed": { "type": "boolean" },
        "statistics": { "type": "object", "additionalProperties": { "type": "number" } },
        "check": { "$ref": "#/$defs/outputsCheck" }
      }
    },
    "modelSummary": {
      "type": "object",
      "required": [
        "bytes", "bytesByDtype", "bytesByOp", "parameters", "nodes", "nodesByOp", "flops", "macs", "flopsByOp",
        "flopsUncounted", "flopsAssumptions", "graphInputs", "graphOutputs", "opsets"
      ],
      "additionalProperties": false,
      "properties": {
        "path": { "type": "string" },
        "fileBytes": { "$ref": "#/$defs/count" },
        "bytes": { "$ref": "#/$defs/count" },
        "bytesByDtype": { "$ref": "#/$defs/countMap" },
        "bytesByOp": { "$ref": "#/$defs/countMap" },
        "parameters": { "$ref": "#/$defs/count" },
        "nodes": { "$ref": "#/$defs/count" },
        "nodesByOp": { "$ref": "#/$defs/countMap" },
        "flops": { "type": "number", "minimum": 0 },
        "macs": { "type": "number", "minimum": 0 },
        "flopsByOp": { "$ref": "#/$defs/countMap" },
        "flopsUncounted": { "$ref": "#/$defs/count" },
        "flopsAssumptions": { "type": "array", "items": { "type": "string" } },
        "graphInputs": { "type": "array", "items": { "$ref": "#/$defs/signature" } },
        "graphOutputs": { "type": "array", "items": { "$ref": "#/$defs/signature" } },
        "opsets": { "type": "object", "additionalProperties": { "type": "integer" } }
      }
    },
    "accuracy": {
      "type": "object",
      "required": ["top1", "samples", "dataset"],
      "additionalProperties": false,
      "properties": {
        "top1": { "$ref": "#/$defs/fraction" },
        "samples": { "$ref": "#/$defs/count" },
        "dataset": { "type": "string" }
      }
    },
    "latency": {
      "type": "object",
      "required": ["medianMs", "runs", "engine"],
      "additionalProperties": false,
      "properties": {
        "medianMs": { "type": "number", "minimum": 0 },
        "meanMs": { "type": "number", "minimum": 0 },
        "p90Ms": { "type": "number", "minimum": 0 },
        "runs": { "$ref": "#/$defs/count" },
        "batch": { "$ref": "#/$defs/count" },
        "engine": { "type": "string" }
      }
    },
    "layer": {
      "type": "object",
      "required": ["node", "op"],
      "additionalProperties": false,
      "properties": {
        "node": { "type": "string" },
        "op": { "type": "string" },
        "weight": { "type": "string" },
        "weightShape": { "type": "array", "items": { "$ref": "#/$defs/count" } },
        "parameters": { "$ref": "#/$defs/count" },
        "flops": { "type": "number", "minimum": 0 },
        "sparsity": { "$ref": "#/$defs/fraction" },
        "channels": {
          "type": "object",
          "required": ["before", "after"],
          "additionalProperties": false,
          "properties": { "before": { "$ref": "#/$defs/count" }, "after": { "$ref": "#/$defs/count" } }
        },
        "quantization": {
          "type": "object",
          "required": ["dtype", "bits", "scale", "zeroPoint", "scaleCount"],
          "additionalProperties": false,
          "properties": {
            "dtype": { "type": "string" },
            "bits": { "type": "integer", "minimum": 1 },
            "axis": { "type": "integer" },
            "scale": { "type": "array", "items": { "type": "number" }, "maxItems": 64 },
            "zeroPoint": { "type": "array", "items": { "type": "number" }, "maxItems": 64 },
            "scaleCount": { "$ref": "#/$defs/count" },
            "sqnrDb": { "$ref": "#/$defs/reportNumber" },
            "cosine": { "type": "number" }
          }
        }
      }
    },
    "outputMetrics": {
      "type": "object",
      "required": ["name", "maxAbsError", "maxRelError", "cosine", "top1Agreement", "elementCount", "mismatchedElements", "withinTolerance"],
      "additionalProperties": false,
      "properties": {
        "name": { "type": "string" },
        "maxAbsError": { "$ref": "#/$defs/reportNumber" },
        "maxRelError": { "$ref": "#/$defs/reportNumber" },
        "cosine": { "$ref": "#/$defs/cosine" },
        "top1Agreement": { "oneOf": [{ "$ref": "#/$defs/fraction" }, { "type": "null" }] },
        "elementCount": { "$ref": "#/$defs/count" },
        "mismatchedElements": { "$ref": "#/$defs/count" },
        "withinTolerance": { "type": "boolean" },
        "shapeChange": { "$ref": "#/$defs/shapeChange" },
        "missingIn": { "enum": ["before", "after"] }
      }
    },
    "shapeChange": {
      "type": "object",
      "required": ["before", "after"],
      "additionalProperties": false,
      "properties": {
        "before": { "type": "array", "items": { "type": "integer", "minimum": 0 } },
        "after": { "type": "array", "items": { "type": "integer", "minimum": 0 } }
      }
    },
    "outputsCheck": {
      "type": "object",
      "required": ["engine", "atol", "rtol", "outputs", "withinTolerance"],
      "additionalProperties": false,
      "properties": {
        "engine": { "type": "string" },
        "atol": { "type": "number", "minimum": 0 },
        "rtol": { "type": "number", "minimum": 0 },
        "outputs": { "type": "array", "items": { "$ref": "#/$defs/outputMetrics" } },
        "accuracy": { "$ref": "#/$defs/accuracy" },
        "withinTolerance": { "type": "boolean" },
        "withinBudget": { "type": "boolean" },
        "notes": { "type": "array", "items": { "type": "string" } }
      }
    },
    "checkInputs": {
      "type": "object",
      "required": ["source", "samples"],
      "additionalProperties": false,
      "properties": {
        "source": { "enum": ["random", "folder", "dataset"] },
        "path": { "type": "string" },
        "seed": { "type": "integer" },
        "samples": { "$ref": "#/$defs/count" }
      }
    },
    "check": {
      "type": "object",
      "required": ["atol", "rtol", "inputs", "status"],
      "additionalProperties": false,
      "properties": {
        "atol": { "type": "number", "minimum": 0 },
        "rtol": { "type": "number", "minimum": 0 },
        "accuracyBudget": { "$ref": "#/$defs/fraction" },
        "inputs": { "$ref": "#/$defs/checkInputs" },
        "status": { "enum": ["passed", "failed"] },
        "failedPass": {
          "type": "object",
          "required": ["index", "name"],
          "additionalProperties": false,
          "properties": { "index": { "type": "integer", "minimum": 1 }, "name": { "type": "string" } }
        },
        "divergence": {
          "type": "object",
          "required": ["node", "op", "tensor", "maxAbsError", "maxRelError", "cosine", "comparedTensors"],
          "additionalProperties": false,
          "properties": {
            "node": { "type": "string" },
            "op": { "type": "string" },
            "location": { "type": "string" },
            "tensor": { "type": "string" },
            "maxAbsError": { "$ref": "#/$defs/reportNumber" },
            "maxRelError": { "$ref": "#/$defs/reportNumber" },
            "cosine": { "$ref": "#/$defs/cosine" },
            "shapeChange": { "$ref": "#/$defs/shapeChange" },
            "comparedTensors": { "$ref": "#/$defs/count" }
          }
        },
        "reproducer": { "type": "string" },
        "notes": { "type": "array", "items": { "type": "string" } }
      }
    },
    "diffNode": {
      "type": "object",
      "required": ["name", "op", "inputs", "outputs"],
      "additionalProperties": false,
      "properties": {
        "name": { "type": "string" },
        "op": { "type": "string" },
        "inputs": { "type": "array", "items": { "type": "string" } },
        "outputs": { "type": "array", "items": { "type": "string" } }
      }
    },
    "changedNode": {
      "type": "object",
      "required": ["name", "matchedBy", "op", "attributes", "inputs"],
      "additionalProperties": false,
      "properties": {
        "name": { "type": "string" },
        "renamedTo": { "type": "string" },
        "matchedBy": { "enum": ["name", "structure"] },
        "op": { "type": "string" },
        "opAfter": { "type": "string" },
        "attributes": {
          "type": "array",
          "items": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": false,
            "properties": { "name": { "type": "string" }, "before": { "type": "string" }, "after": { "type": "string" } }
          }
        },
        "inputs": {
          "type": "array",
          "items": {
            "type": "object",
            "required": ["index", "before", "after"],
            "additionalProperties": false,
            "properties": {
              "index": { "$ref": "#/$defs/count" },
              "before": { "type": ["string", "null"] },
              "after": { "type": ["string", "null"] },
              "beforeKind": { "$ref": "#/$defs/sourceKind" },
              "afterKind": { "$ref": "#/$defs/sourceKind" }
            }
          }
        }
      }
    },
    "diffTensor": {
      "type": "object",
      "required": ["name", "dtype", "shape"],
      "additionalProperties": false,
      "properties": {
        "name": { "type": "string" },
        "dtype": { "type": "string" },
        "shape": { "type": "array", "items": { "$ref": "#/$defs/count" } }
      }
    },
    "changedTensor": {
      "type": "object",
      "required": ["name", "dtype", "shape", "maxAbsError", "maxRelError", "cosine"],
      "additionalProperties": false,
      "properties": {
        "name": { "type": "string" },
        "dtype": { "type": "string" },
        "shape": { "type": "array", "items": { "$ref": "#/$defs/count" } },
        "dtypeAfter": { "type": "string" },
        "shapeAfter": { "type": "array", "items": { "$ref": "#/$defs/count" } },
        "maxAbsError": { "$ref": "#/$defs/reportNumber" },
        "maxRelError": { "$ref": "#/$defs/reportNumber" },
        "cosine": { "$ref": "#/$defs/cosine" }
      }
    },
    "graphIoDiff": {
      "type": "object",
      "required": ["added", "removed", "changed"],
      "additionalProperties": false,
      "properties": {
        "added": { "type": "array", "items": { "$ref": "#/$defs/signature" } },
        "removed": { "type": "array", "items": { "$ref": "#/$defs/signature" } },
        "changed": {
          "type": "array",
          "items": {
            "type": "object",
            "required": ["name", "before", "after"],
            "additionalProperties": false,
            "properties": { "name": { "type": "string" }, "before": { "type": "string" }, "after": { "type": "string" } }
          }
        }
      }
    },
    "modelDiff": {
      "type": "object",
      "required": ["nodes", "initializers", "graphInputs", "graphOutputs"],
      "additionalProperties": false,
      "properties": {
        "nodes": {
          "type": "object",
          "required": ["added", "removed", "changed", "unchanged"],
          "additionalProperties": false,
          "properties": {
            "added": { "type": "array", "items": { "$ref": "#/$defs/diffNode" } },
            "removed": { "type": "array", "items": { "$ref": "#/$defs/diffNode" } },
            "changed": { "type": "array", "items": { "$ref": "#/$defs/changedNode" } },
            "unchanged": { "$ref": "#/$defs/count" }
          }
        },
        "initializers": {
          "type": "object",
          "required": ["added", "removed", "changed", "unchanged"],
          "additionalProperties": false,
          "properties": {
            "added": { "type": "array", "items": { "$ref": "#/$defs/diffTensor" } },
            "removed": { "type": "array", "items": { "$ref": "#/$defs/diffTensor" } },
            "changed": { "type": "array", "items": { "$ref": "#/$defs/changedTensor" } },
            "unchanged": { "$ref": "#/$defs/count" }
          }
        },
        "graphInputs": { "$ref": "#/$defs/graphIoDiff" },
        "graphOutputs": { "$ref": "#/$defs/graphIoDiff" },
        "tensors": {
          "type": "object",
          "required": ["engine", "inputs", "compared", "tensors", "atol", "rtol"],
          "additionalProperties": false,
          "properties": {
            "engine": { "type": "string" },
            "inputs": { "$ref": "#/$defs/checkInputs" },
            "compared": { "$ref": "#/$defs/count" },
            "tensors": {
              "type": "array",
              "items": {
                "type": "object",
                "required": ["name", "node", "op", "maxAbsError", "maxRelError", "cosine", "withinTolerance"],
                "additionalProperties": false,
                "properties": {
                  "name": { "type": "string" },
                  "node": { "type": "string" },
                  "op": { "type": "string" },
                  "maxAbsError": { "$ref": "#/$defs/reportNumber" },
                  "maxRelError": { "$ref": "#/$defs/reportNumber" },
                  "cosine": { "$ref": "#/$defs/cosine" },
                  "withinTolerance": { "type": "boolean" },
                  "shapeChange": { "$ref": "#/$defs/shapeChange" }
                }
              }
            },
            "firstDivergent": { "type": "string" },
            "atol": { "type": "number", "minimum": 0 },
            "rtol": { "type": "number", "minimum": 0 }
          }
        }
      }
    }
  }
} as const;
