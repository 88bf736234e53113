import { ObjectSerializer } from '../node_modules/@kubernetes/client-node/dist/serializer.js'
const d = {apiVersion:'apps/v1',kind:'Deployment',metadata:{name:'x',creationTimestamp:'2024-01-01T00:00:00Z'},spec:{replicas:1,typo:3,template:{spec:{containers:[{name:'a',image:'b',ports:[{containerPort:80}]}]}}}}
const s = ObjectSerializer.serialize(d,'V1Deployment')
console.log(JSON.stringify(s))
const x = ObjectSerializer.deserialize(d,'V1Deployment'); console.log(x.metadata.creationTimestamp instanceof Date, JSON.stringify(x))
