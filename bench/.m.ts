import { measurePackedBundleSize } from './bundle-size.ts';
const r = await measurePackedBundleSize();
for (const { name, bytes } of r.byModule) console.log(String(bytes).padStart(6), name);
for (const { name, bytes } of r.byPackage) console.log('PKG', String(bytes).padStart(6), name);
