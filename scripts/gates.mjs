// Packaging gates: publint --strict and @arethetypeswrong/cli for every public package.
console.log('gates: pending')
