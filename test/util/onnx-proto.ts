// onnx-proto (the official ONNX schema, independent of edgeprune's decoder) as the tests and the
// fuzzer use it: the namespace, the message types they build, and the enums they name.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type IGraphProto = onnxProto.onnx.IGraphProto;
export type INodeProto = onnxProto.onnx.INodeProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;
/** TensorProto.DataType */
export const E = onnx.TensorProto.DataType;
/** AttributeProto.AttributeType */
export const AT = onnx.AttributeProto.AttributeType;
