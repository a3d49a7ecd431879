package dev.siteward.pki.modelsig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * In-toto Statement v1 payloads ({@code in-toto/attestation} spec/v1/statement.md): the model signature predicate
 * {@value #MODEL_PREDICATE_TYPE} and Siteward's withdrawal predicate.
 */
final class Statements {

    static final String STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
    static final String MODEL_PREDICATE_TYPE = "https://model_signing/signature/v1.0";

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    private Statements() {
    }

    /**
     * Encodes a model manifest; {@code ignore_paths} is written only when {@code withIgnorePaths} (as format
     * versions after v1.0.0 do), so a plain signature stays byte-compatible with v1.0.0 verifiers.
     */
    static byte[] encodeModel(ModelManifest manifest, boolean withIgnorePaths) {
        ObjectNode statement = statement(manifest.modelName(), manifest.rootDigest(), MODEL_PREDICATE_TYPE);
        ObjectNode predicate = statement.putObject("predicate");
        ObjectNode serialization = predicate.putObject("serialization");
        serialization.put("method", "files");
        serialization.put("hash_type", "sha256");
        serialization.put("allow_symlinks", false);
        if (withIgnorePaths) {
            ArrayNode ignore = serialization.putArray("ignore_paths");
            manifest.ignorePaths().forEach(ignore::add);
        }
        ArrayNode resources = predicate.putArray("resources");
        for (Map.Entry<String, String> e : manifest.digests().entrySet()) {
            ObjectNode r = resources.addObject();
            r.put("algorithm", "sha256");
            r.put("digest", e.getValue());
            r.put("name", e.getKey());
        }
        return Json.write(statement);
    }

    private static ObjectNode statement(String subjectName, String subjectSha256, String predicateType) {
        ObjectNode statement = Json.object();
        statement.put("_type", STATEMENT_TYPE);
        ObjectNode subject = statement.putArray("subject").addObject();
        subject.put("name", subjectName);
        subject.putObject("digest").put("sha256", subjectSha256);
        statement.put("predicateType", predicateType);
        return statement;
    }

    /** Returns the statement's predicate type after checking the statement envelope fields. */
    static String predicateType(ObjectNode statement) throws ModelSignatureException {
        String type = Json.text(statement, "_type", "statement");
        if (!STATEMENT_TYPE.equals(type)) {
            throw Json.malformed("statement _type is '" + type + "', expected " + STATEMENT_TYPE);
        }
        return Json.text(statement, "predicateType", "statement");
    }

    /**
     * Decodes and checks a model signature statement: one subject, serialization {@code files}/{@code sha256},
     * SHA-256 resources with safe names, and a subject digest equal to the digest over the resources.
     */
    static ModelManifest decodeModel(byte[] payload) throws ModelSignatureException {
        ObjectNode statement = Json.parseObject(payload, "statement");
        String predicateType = predicateType(statement);
        if (!MODEL_PREDICATE_TYPE.equals(predicateType)) {
            throw new ModelSignatureException(FailureReason.WRONG_STATEMENT_TYPE,
                    "statement predicateType is '" + predicateType + "', expected " + MODEL_PREDICATE_TYPE);
        }
        JsonNode subject = onlySubject(statement);
        String name = Json.text(subject, "name", "subject");
        String expectedRoot = Json.text(Json.objectField(subject, "digest", "subject"), "sha256", "subject.digest");
        ObjectNode predicate = Json.objectField(statement, "predicate", "statement");
        ObjectNode serialization = Json.objectField(predicate, "serialization", "predicate");
        String method = Json.text(serialization, "method", "serialization");
        if (!"files".equals(method)) {
            throw Json.malformed("serialization method '" + method + "' is not supported (only 'files')");
        }
        String hashType = Json.text(serialization, "hash_type", "serialization");
        if (!"sha256".equals(hashType)) {
            throw Json.malformed("hash_type '" + hashType + "' is not supported (only 'sha256')");
        }
        List<String> ignorePaths = new ArrayList<>();
        JsonNode ignore = serialization.get("ignore_paths");
        if (ignore != null && !ignore.isNull()) {
            if (!ignore.isArray()) {
                throw Json.malformed("serialization.ignore_paths is not an array");
            }
            for (JsonNode p : ignore) {
                if (!p.isTextual()) {
                    throw Json.malformed("serialization.ignore_paths holds a non-string");
                }
                String problem = ResourceNames.problem(p.textValue());
                if (problem != null) {
                    throw new ModelSignatureException(FailureReason.PATH_REFUSED,
                            "ignore path refused (" + problem + "): " + p.textValue());
                }
                ignorePaths.add(p.textValue());
            }
        }
        JsonNode resources = Json.array(predicate, "resources", "predicate");
        Map<String, String> digests = new LinkedHashMap<>();
        for (JsonNode r : resources) {
            String rname = Json.text(r, "name", "resource");
            String algorithm = Json.text(r, "algorithm", "resource");
            String digest = Json.text(r, "digest", "resource");
            if (!"sha256".equals(algorithm)) {
                throw Json.malformed("resource " + rname + " uses algorithm '" + algorithm + "'");
            }
            if (!SHA256_HEX.matcher(digest).matches()) {
                throw Json.malformed("resource " + rname + " digest is not 64 lower-case hex digits");
            }
            if (!(rname.equals(ResourceNames.SINGLE_FILE) && resources.size() == 1)) {
                String problem = ResourceNames.problem(rname);
                if (problem != null) {
                    throw new ModelSignatureException(FailureReason.PATH_REFUSED,
                            "manifest path refused (" + problem + "): " + rname);
                }
            }
            if (digests.put(rname, digest) != null) {
                throw Json.malformed("resource " + rname + " is listed twice");
            }
        }
        if (digests.isEmpty()) {
            throw Json.malformed("the manifest lists no resource");
        }
        ModelManifest manifest = new ModelManifest(name, digests, ignorePaths);
        if (!manifest.rootDigest().equals(expectedRoot)) {
            throw Json.malformed("manifest is inconsistent: subject digest " + expectedRoot
                    + " is not the digest over the resources " + manifest.rootDigest());
        }
        return manifest;
    }

    private static JsonNode onlySubject(ObjectNode statement) throws ModelSignatureException {
        JsonNode subjects = Json.array(statement, "subject", "statement");
        if (subjects.size() != 1) {
            throw Json.malformed("statement has " + subjects.size() + " subjects, expected exactly 1");
        }
        return subjects.get(0);
    }

    /**
     * Encodes a withdrawal. The subject names the model; its digest is SHA-256 of the UTF-8 model name (in-toto
     * requires a digest; a withdrawal concerns a name, not bytes).
     */
    static byte[] encodeWithdrawal(Withdrawal w) {
        String nameDigest = HexFormat.of().formatHex(FileHasher.sha256(w.modelName().getBytes(StandardCharsets.UTF_8)));
        ObjectNode statement = statement(w.modelName(), nameDigest, Withdrawal.PREDICATE_TYPE);
        ObjectNode predicate = statement.putObject("predicate");
        predicate.put("model", w.modelName());
        if (w.withdrawnBelow().isPresent()) {
            predicate.put("withdrawnBelow", w.withdrawnBelow().getAsLong());
        }
        ArrayNode versions = predicate.putArray("withdrawnVersions");
        w.withdrawnVersions().forEach(versions::add);
        predicate.put("issuedAt", w.issuedAt().toString());
        if (!w.reason().isEmpty()) {
            predicate.put("reason", w.reason());
        }
        return Json.write(statement);
    }

    /** Decodes and checks a withdrawal statement. */
    static Withdrawal decodeWithdrawal(byte[] payload) throws ModelSignatureException {
        ObjectNode statement = Json.parseObject(payload, "statement");
        String predicateType = predicateType(statement);
        if (!Withdrawal.PREDICATE_TYPE.equals(predicateType)) {
            throw new ModelSignatureException(FailureReason.WRONG_STATEMENT_TYPE,
                    "statement predicateType is '" + predicateType + "', expected " + Withdrawal.PREDICATE_TYPE);
        }
        JsonNode subject = onlySubject(statement);
        String subjectName = Json.text(subject, "name", "subject");
        ObjectNode predicate = Json.objectField(statement, "predicate", "statement");
        String model = Json.text(predicate, "model", "predicate");
        if (!model.equals(subjectName)) {
            throw Json.malformed("withdrawal subject '" + subjectName + "' differs from its model '" + model + "'");
        }
        OptionalLong below = OptionalLong.empty();
        JsonNode b = predicate.get("withdrawnBelow");
        if (b != null && !b.isNull()) {
            if (!b.isIntegralNumber() || !b.canConvertToLong()) {
                throw Json.malformed("withdrawnBelow is not an integer");
            }
            below = OptionalLong.of(b.longValue());
        }
        Set<Long> versions = new HashSet<>();
        JsonNode list = predicate.get("withdrawnVersions");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw Json.malformed("withdrawnVersions is not an array");
            }
            for (JsonNode v : list) {
                if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                    throw Json.malformed("withdrawnVersions holds a non-integer");
                }
                versions.add(v.longValue());
            }
        }
        Instant issuedAt;
        try {
            issuedAt = Instant.parse(Json.text(predicate, "issuedAt", "predicate"));
        } catch (DateTimeParseException e) {
            throw Json.malformed("issuedAt is not an RFC 3339 UTC time");
        }
        JsonNode reason = predicate.get("reason");
        try {
            return new Withdrawal(model, below, new ArrayList<>(versions), issuedAt,
                    reason != null && reason.isTextual() ? reason.textValue() : "");
        } catch (IllegalArgumentException e) {
            throw Json.malformed("withdrawal is invalid: " + e.getMessage());
        }
    }
}
