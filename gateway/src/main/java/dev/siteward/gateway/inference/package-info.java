/**
 * Shared inference (docs/inference.md): sensors publish readings over MQTT 5 and the gateway answers from signed
 * models only. ONNX Runtime sessions are built from the exact verified bytes of the release targeting the device's
 * class; each model's pipeline (validation, scaling, thresholds, k-of-n decisions, actions through the policy
 * engine) comes from its signed {@code siteward-model.yaml}; a fair dynamic batcher per model sheds load it cannot
 * take and swaps releases without dropping readings. Metrics and health are on a local management listener.
 */
package dev.siteward.gateway.inference;
