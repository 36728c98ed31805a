// Dawn's messages reach users without Dawn's own source locations (the hostile-inputs issue,
// item 7): they say nothing to a user and change with every Dawn build.
import { expect, it } from 'vitest';
import { dawnMessage } from '../../src/codegen/wgsl/dawn.js';

it('drops Dawn source locations and joins the context lines into one', () => {
  const m = dawnMessage(
    "Error while parsing WGSL: :3:5 error: unresolved identifier 'x'\n\n - While validating [ShaderModuleDescriptor \"a\"]\n - While calling [Device].CreateShaderModule([ShaderModuleDescriptor \"a\"]).\n    at ValidateShaderModuleDescriptor (../../third_party/dawn/src/dawn/native/ShaderModule.cpp:1234)\nBuffer too large (/build/dawn/src/dawn/native/Buffer.cpp:88)",
  );
  expect(m).toBe("Error while parsing WGSL: :3:5 error: unresolved identifier 'x'; While validating [ShaderModuleDescriptor \"a\"]; While calling [Device].CreateShaderModule([ShaderModuleDescriptor \"a\"]).; Buffer too large");
  expect(m).not.toMatch(/\.cpp|\n/);
});
