package io.vladapt.api;

/**
 * What a loaded model is.
 *
 * @param id            the name it is served under (the adapter's or VPG's folder name unless set)
 * @param method        "lavin" or "vpgtrans"
 * @param llm           the LLM folder
 * @param vit           the ViT folder or file
 * @param contextLength the LLM's positions
 * @param dtype         the frozen weights' dtype
 */
public record ModelInfo(String id, String method, String llm, String vit, int contextLength, String dtype) {}
