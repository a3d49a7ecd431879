/**
 * Model signatures in the OpenSSF model-signing v1.0 format: hash a model's files into a manifest, sign it as a
 * DSSE envelope over an in-toto Statement inside a Sigstore bundle, and verify by re-hashing the exact bytes.
 *
 * <p>Entry points: {@link dev.siteward.pki.modelsig.ModelSigner} (sign a model or a withdrawal),
 * {@link dev.siteward.pki.modelsig.ModelVerifier} (verify against trusted roots or a public key),
 * {@link dev.siteward.pki.modelsig.ModelLocation} (what counts as the model's files) and
 * {@link dev.siteward.pki.modelsig.KeyMaterial} (PEM keys and certificates for the CLI).
 * The format is described in {@code docs/model-signing.md}.
 */
package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;