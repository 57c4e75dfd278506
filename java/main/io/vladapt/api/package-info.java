/**
 * VLAdapt's public Java API: load a vision-language model from folders, chat with it from any number
 * of threads, train LaVIN adapters as a library call ({@link io.vladapt.api.LavinTraining}), and run
 * VPGTrans' stages one method each ({@link io.vladapt.api.VpgTransfer}).
 *
 * <pre>{@code
 * try (VisionLanguageModel m = VisionLanguageModel.lavin(lmDir, vitDir, adapterDir).dtype("float32").load()) {
 *     String answer = m.chat(ImageInput.of(Path.of("photo.jpg")), "What is in the picture?");
 *     try (TokenStream s = m.stream(ChatRequest.of(ImageInput.of(bytes), "Describe it."))) {
 *         s.forEachRemaining(System.out::print);          // text pieces as they are generated
 *     }
 * }
 * }</pre>
 *
 * <p>The names here are the stable surface; everything under {@code io.vladapt.nn}, {@code mma},
 * {@code vpg} and {@code train} is internal and may change between releases, except the VPGTrans
 * value types that {@link io.vladapt.api.VpgTransfer} takes and returns ({@code vpg.Recipe},
 * {@code vpg.VpgInit}, {@code vpg.VlDataset.Files}, {@code vpg.MultiSeedSpeedUp}). Concurrent calls are
 * batched into shared decoding steps by one generation thread per model; each caller gets the
 * answer it would get alone.
 */
package io.vladapt.api;
