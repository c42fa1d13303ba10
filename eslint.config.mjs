// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      ".bench-build/**",
      "node_modules/**",
      ".cache/**",
      "stubs/**",
      "**/*.cjs",
      ".venv/**",
      "tmp/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "no-console": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  {
    // The protocol client knows nothing of Matrix, SQLite or the bridge's config.
    files: ["src/skype/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "matrix-*",
                "@vector-im/*",
                "better-sqlite3",
                "**/bridge/**",
                "**/sessions/**",
                "**/store/**",
                "**/config/**",
                "../bridge",
                "../sessions",
                "../store",
                "../config",
              ],
              message: "src/skype must not import Matrix, SQLite, bridge, sessions, store or config code.",
            },
          ],
        },
      ],
    },
  },
  {
    // Shared helpers sit below everything else: src/skype may use them, never the reverse.
    files: ["src/util/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/skype/**", "../skype", "../skype/*"],
              message: "src/util must not import src/skype (src/skype imports src/util).",
            },
          ],
        },
      ],
    },
  },
  {
    // The configuration is read by the bridge, it does not depend on it.
    files: ["src/config/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/bridge/**", "../bridge", "../bridge/*"],
              message: "src/config must not import bridge code.",
            },
          ],
        },
      ],
    },
  },
  {
    // The reference server is built from the spec, never from the client.
    files: ["refserver/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/src/**", "../src/*"],
              message: "The reference server must not import the client's code.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["scripts/**/*.mjs", "eslint.config.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly" },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, "no-console": "off" },
  },
  {
    files: ["test/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      // node:test's test()/describe() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] },
          ],
        },
      ],
    },
  },
  prettier,
);
